#include "tests/support/sse_reader.hpp"

#include "tests/support/fd.hpp"

#include <cerrno>

#include <poll.h>
#include <sys/socket.h>

namespace stemd::test {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

std::vector<sse_event> sse_parser::feed(const std::string& bytes) {
    std::vector<sse_event> out;
    pending_ += bytes;
    for (;;) {
        const auto end = pending_.find('\n');
        if (end == std::string::npos)
            break;
        std::string l = pending_.substr(0, end);
        pending_.erase(0, end + 1);
        if (!l.empty() && l.back() == '\r')
            l.pop_back();
        line(std::move(l), out);
    }
    return out;
}

void sse_parser::line(std::string l, std::vector<sse_event>& out) {
    if (l.empty()) { // the end of an event
        if (has_fields_)
            out.push_back(std::move(current_));
        current_ = {};
        has_fields_ = false;
        return;
    }
    if (l.front() == ':') {
        out.push_back({.comment = l.substr(l.size() > 1 && l[1] == ' ' ? 2 : 1)});
        return;
    }
    const auto colon = l.find(':');
    const std::string field = l.substr(0, colon);
    std::string value = colon == std::string::npos ? "" : l.substr(colon + 1);
    if (!value.empty() && value.front() == ' ')
        value.erase(0, 1);
    has_fields_ = true;
    if (field == "id")
        current_.id = value;
    else if (field == "event")
        current_.event = value;
    else if (field == "data")
        current_.data += (current_.data.empty() ? "" : "\n") + value;
}

sse_reader::sse_reader(int port, const std::string& target, const std::string& extra_headers) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0)
        throw_errno("sse_reader: socket");
    const sockaddr_in addr = loopback_address(port);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        const int saved = errno;
        ::close(fd_);
        errno = saved;
        throw_errno("sse_reader: connect to 127.0.0.1:" + std::to_string(port));
    }
    const std::string request = "GET " + target +
                                " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                                "\r\nAccept: text/event-stream\r\n" + extra_headers + "\r\n";
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size()))
        throw_errno("sse_reader: send");
}

sse_reader::~sse_reader() {
    close();
}

void sse_reader::close() {
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = -1;
    closed_ = true;
}

bool sse_reader::read_some(steady_clock::time_point deadline) {
    if (fd_ < 0)
        return false;
    for (;;) {
        const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
        pollfd p{fd_, POLLIN, 0};
        const int n = ::poll(&p, 1, static_cast<int>(std::max<milliseconds::rep>(left.count(), 0)));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        char buf[16384];
        const ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            closed_ = true;
            ::close(fd_);
            fd_ = -1;
            return false;
        }
        raw_.append(buf, static_cast<std::size_t>(got));
        return true;
    }
}

int sse_reader::status(milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    while (status_ == 0) {
        const auto end = raw_.find("\r\n\r\n");
        if (end != std::string::npos) {
            const auto first = raw_.find("\r\n");
            const std::string status_line = raw_.substr(0, first);
            const auto space = status_line.find(' ');
            status_ = space == std::string::npos ? 0 : std::atoi(status_line.c_str() + space + 1);
            headers_ = raw_.substr(first + 2, end + 2 - (first + 2));
            raw_.erase(0, end + 4);
            break;
        }
        if (!read_some(deadline))
            return 0;
    }
    return status_;
}

std::string sse_reader::rest(milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    while (read_some(deadline)) {
    }
    return std::exchange(raw_, {});
}

std::optional<sse_event> sse_reader::next(milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    if (status_ == 0 && status(timeout) == 0)
        return std::nullopt;
    for (;;) {
        if (!raw_.empty()) {
            for (auto& e : parser_.feed(std::exchange(raw_, {})))
                ready_.push_back(std::move(e));
        }
        if (!ready_.empty()) {
            sse_event e = std::move(ready_.front());
            ready_.erase(ready_.begin());
            return e;
        }
        if (!read_some(deadline))
            return std::nullopt;
    }
}

std::optional<sse_event> sse_reader::next_job(milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
        auto e = next(std::max(left, milliseconds(0)));
        if (!e || e->event == "job")
            return e;
    }
}

} // namespace stemd::test
