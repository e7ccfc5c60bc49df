#include "tests/support/http_probe.hpp"

#include "tests/support/fd.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

namespace stemd::test {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

enum class parse_state { incomplete, complete, malformed };

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// The value of header `name` (case-insensitive) in CRLF-separated `headers`.
std::optional<std::string> header_value(const std::string& headers, const std::string& name) {
    std::istringstream lines(headers);
    std::string line;
    std::string wanted = lower(name);
    while (std::getline(lines, line)) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        auto colon = line.find(':');
        if (colon == std::string::npos || lower(line.substr(0, colon)) != wanted)
            continue;
        auto start = line.find_first_not_of(" \t", colon + 1);
        auto end = line.find_last_not_of(" \t");
        return start == std::string::npos ? std::string() : line.substr(start, end - start + 1);
    }
    return std::nullopt;
}

// Decodes a chunked body starting at `data`; `incomplete` until the last
// chunk and the trailer section have arrived.
parse_state decode_chunked(std::string_view data, std::string& body) {
    body.clear();
    std::size_t pos = 0;
    while (true) {
        auto line_end = data.find("\r\n", pos);
        if (line_end == std::string_view::npos)
            return parse_state::incomplete;
        std::string size_text(data.substr(pos, line_end - pos));
        size_text = size_text.substr(0, size_text.find(';')); // drop chunk extensions
        std::size_t size = 0;
        try {
            std::size_t used = 0;
            size = std::stoul(size_text, &used, 16);
            if (used == 0)
                return parse_state::malformed;
        } catch (const std::exception&) {
            return parse_state::malformed;
        }
        pos = line_end + 2;
        if (size == 0)
            break;
        if (data.size() < pos + size + 2)
            return parse_state::incomplete;
        if (data.substr(pos + size, 2) != "\r\n")
            return parse_state::malformed;
        body.append(data.substr(pos, size));
        pos += size + 2;
    }
    // Trailer fields, ended by an empty line.
    while (true) {
        auto line_end = data.find("\r\n", pos);
        if (line_end == std::string_view::npos)
            return parse_state::incomplete;
        if (line_end == pos)
            return parse_state::complete;
        pos = line_end + 2;
    }
}

// "HTTP/1.1 200 OK" -> 200; 0 when the line is not an HTTP/1.x status line.
int parse_status_line(const std::string& line) {
    if (line.size() < 12 || line.compare(0, 7, "HTTP/1.") != 0 || line[8] != ' ')
        return 0;
    int status = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(line[i])))
            return 0;
        status = status * 10 + (line[i] - '0');
    }
    if (line.size() > 12 && line[12] != ' ')
        return 0;
    return status >= 100 ? status : 0;
}

// Parses what has arrived so far. `at_eof` lets a body without a length end
// with the connection.
parse_state parse_response(const std::string& raw, bool at_eof, bool head_request,
                           http_answer& answer) {
    auto header_end = raw.find("\r\n\r\n");
    if (header_end == std::string::npos)
        return at_eof ? parse_state::malformed : parse_state::incomplete;

    auto status_end = raw.find("\r\n");
    int status = parse_status_line(raw.substr(0, status_end));
    if (status == 0)
        return parse_state::malformed;
    answer.status = status;
    answer.headers =
        status_end == header_end ? "" : raw.substr(status_end + 2, header_end - status_end);

    std::string_view rest(raw);
    rest.remove_prefix(header_end + 4);
    if (head_request || status == 204 || status == 304 || status < 200) {
        answer.body.clear();
        return parse_state::complete;
    }
    auto encoding = header_value(answer.headers, "Transfer-Encoding");
    if (encoding && lower(*encoding).find("chunked") != std::string::npos) {
        auto state = decode_chunked(rest, answer.body);
        return state == parse_state::incomplete && at_eof ? parse_state::malformed : state;
    }
    if (auto length_text = header_value(answer.headers, "Content-Length")) {
        std::size_t length = 0;
        try {
            length = std::stoull(*length_text);
        } catch (const std::exception&) {
            return parse_state::malformed;
        }
        if (rest.size() < length)
            return at_eof ? parse_state::malformed : parse_state::incomplete;
        answer.body = std::string(rest.substr(0, length));
        return parse_state::complete;
    }
    answer.body = std::string(rest);
    return at_eof ? parse_state::complete : parse_state::incomplete;
}

bool send_all(int fd, const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
        ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

http_answer failed(int port, const std::string& why) {
    http_answer answer;
    answer.body = "http_request to 127.0.0.1:" + std::to_string(port) + ": " + why;
    return answer;
}

} // namespace

http_answer http_request(int port, const std::string& method, const std::string& target,
                         const std::string& body, const std::string& content_type,
                         const std::string& extra_headers) {
    fd_guard sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (sock.get() < 0)
        return failed(port, std::string("socket: ") + std::strerror(errno));
    timeval five_seconds{5, 0};
    ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &five_seconds, sizeof five_seconds);
    ::setsockopt(sock.get(), SOL_SOCKET, SO_SNDTIMEO, &five_seconds, sizeof five_seconds);

    const sockaddr_in addr = loopback_address(port);
    if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        return failed(port, std::string("connect: ") + std::strerror(errno));

    std::string request = method + " " + target +
                          " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                          "\r\nConnection: close\r\n";
    if (!content_type.empty())
        request += "Content-Type: " + content_type + "\r\n";
    request += extra_headers;
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    if (!send_all(sock.get(), request))
        return failed(port, std::string("send: ") + std::strerror(errno));

    // Stop at the end of the message rather than waiting for the close, so a
    // server that ignores "Connection: close" does not cost the timeout.
    http_answer answer;
    std::string raw;
    char buf[16384];
    bool head_request = method == "HEAD";
    while (true) {
        ssize_t n = ::recv(sock.get(), buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return failed(port, "no complete response within 5 s (" + std::to_string(raw.size()) +
                                    " bytes received)");
        bool at_eof = n <= 0; // a reset after a full response still counts as its end
        if (n > 0)
            raw.append(buf, static_cast<std::size_t>(n));
        switch (parse_response(raw, at_eof, head_request, answer)) {
        case parse_state::complete:
            return answer;
        case parse_state::malformed:
            return failed(port, raw.empty() ? "connection closed without a response"
                                            : "malformed or truncated response (" +
                                                  std::to_string(raw.size()) + " bytes)");
        case parse_state::incomplete:
            break;
        }
    }
}

// ---------------------------------------------------------------- raw_connection

raw_connection::raw_connection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0)
        throw_errno("raw_connection: socket");
    const sockaddr_in addr = loopback_address(port);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        const int saved = errno;
        ::close(fd_);
        errno = saved;
        throw_errno("raw_connection: connect to 127.0.0.1:" + std::to_string(port));
    }
}

raw_connection::~raw_connection() {
    if (fd_ >= 0)
        ::close(fd_);
}

bool raw_connection::send(const std::string& bytes) {
    return send_all(fd_, bytes);
}

namespace {

// Waits for the socket to become readable until `deadline`; false on timeout.
bool readable_before(int fd, steady_clock::time_point deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
        pollfd p{fd, POLLIN, 0};
        int n = ::poll(&p, 1, static_cast<int>(std::max<milliseconds::rep>(left.count(), 0)));
        if (n < 0 && errno == EINTR)
            continue;
        return n > 0;
    }
}

} // namespace

http_answer raw_connection::read_response(milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    http_answer answer;
    std::string raw;
    char buf[16384];
    for (;;) {
        if (!readable_before(fd_, deadline)) {
            answer.status = 0;
            answer.body =
                "no complete response in time (" + std::to_string(raw.size()) + " bytes received)";
            return answer;
        }
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        bool at_eof = n <= 0;
        if (n > 0)
            raw.append(buf, static_cast<std::size_t>(n));
        switch (parse_response(raw, at_eof, false, answer)) {
        case parse_state::complete:
            return answer;
        case parse_state::malformed:
            answer.status = 0;
            answer.body = raw.empty() ? "connection closed without a response"
                                      : "malformed or truncated response";
            return answer;
        case parse_state::incomplete:
            break;
        }
    }
}

bool raw_connection::closed_within(milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    char buf[4096];
    for (;;) {
        if (!readable_before(fd_, deadline))
            return false;
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return true;
    }
}

} // namespace stemd::test
