#include "support/forwarder.hpp"

#include "support/fd.hpp"

#include <array>
#include <utility>

#include <poll.h>
#include <sys/socket.h>

namespace stemd::test {

namespace {

// How often blocked threads look at the stop flag.
constexpr int tick_ms = 100;

int connect_loopback(int port) {
    fd_guard sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (sock.get() < 0)
        return -1;
    const sockaddr_in addr = loopback_address(port);
    if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        return -1;
    return sock.release();
}

// Moves what `from` has to `to`; false once `from` is at its end (or
// either side failed), after passing the end on as a half-close.
bool pump(int from, int to) {
    std::array<char, 16 * 1024> buffer{};
    const ssize_t n = ::recv(from, buffer.data(), buffer.size(), 0);
    if (n <= 0) {
        ::shutdown(to, SHUT_WR);
        return false;
    }
    for (ssize_t sent = 0; sent < n;) {
        const ssize_t w =
            ::send(to, buffer.data() + sent, static_cast<std::size_t>(n - sent), MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        sent += w;
    }
    return true;
}

} // namespace

forwarder::forwarder(std::vector<int> backend_ports)
    : backends_(std::move(backend_ports)), counts_(backends_.size(), 0) {
    fd_guard sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (sock.get() < 0)
        throw_errno("forwarder: socket");
    const int on = 1;
    ::setsockopt(sock.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    const sockaddr_in addr = loopback_address(port_.number());
    if (::bind(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        throw_errno("forwarder: bind 127.0.0.1:" + std::to_string(port_.number()));
    if (::listen(sock.get(), 64) != 0)
        throw_errno("forwarder: listen");
    listen_fd_ = sock.release();
    acceptor_ = std::thread([this] { accept_loop(); });
}

forwarder::~forwarder() {
    stop_ = true;
    acceptor_.join();
    // The acceptor has stopped, so relays_ no longer grows.
    for (auto& t : relays_)
        t.join();
    ::close(listen_fd_);
}

std::vector<std::uint64_t> forwarder::forwarded() const {
    const std::lock_guard lock(mutex_);
    return counts_;
}

int forwarder::connect_next() {
    for (std::size_t tried = 0; tried < backends_.size(); ++tried) {
        std::size_t index = 0;
        {
            const std::lock_guard lock(mutex_);
            index = next_;
            next_ = (next_ + 1) % backends_.size();
        }
        if (const int fd = connect_loopback(backends_[index]); fd >= 0) {
            const std::lock_guard lock(mutex_);
            ++counts_[index];
            return fd;
        }
    }
    return -1;
}

void forwarder::accept_loop() {
    while (!stop_) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, tick_ms) <= 0)
            continue;
        const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0)
            continue;
        const int backend = connect_next();
        if (backend < 0) {
            ++dropped_;
            ::close(client);
            continue;
        }
        const std::lock_guard lock(mutex_);
        relays_.emplace_back([this, client, backend] { relay(client, backend); });
    }
}

// Both directions until both have ended (or the forwarder stops).
void forwarder::relay(int client, int backend) {
    const fd_guard a(client);
    const fd_guard b(backend);
    bool up = true;   // client -> backend still open
    bool down = true; // backend -> client still open
    while ((up || down) && !stop_) {
        std::array<pollfd, 2> p{pollfd{client, static_cast<short>(up ? POLLIN : 0), 0},
                                pollfd{backend, static_cast<short>(down ? POLLIN : 0), 0}};
        if (::poll(p.data(), p.size(), tick_ms) <= 0)
            continue;
        if (up && (p[0].revents & (POLLIN | POLLHUP | POLLERR)))
            up = pump(client, backend);
        if (down && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            down = pump(backend, client);
            if (!down)
                break; // the answer is complete: the request has nothing left to say
        }
    }
}

} // namespace stemd::test
