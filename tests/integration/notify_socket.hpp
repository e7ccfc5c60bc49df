#pragma once

// The test's end of $NOTIFY_SOCKET: an AF_UNIX datagram socket (abstract
// name, so no path length or clean-up) that reads what stemd tells
// systemd, written without libsystemd so the tests do not trust it.

#include "support/fd.hpp"

#include <chrono>
#include <optional>
#include <random>
#include <string>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

namespace stemd::test {

class notify_socket {
public:
    notify_socket() : fd_(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
        if (fd_.get() < 0)
            throw_errno("notify socket");
        name_ = "stemd-test-notify-" + std::to_string(std::random_device{}());
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        name_.copy(addr.sun_path + 1, name_.size()); // sun_path[0] = 0: abstract
        const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name_.size());
        if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0)
            throw_errno("notify socket: bind");
    }

    // The value for $NOTIFY_SOCKET.
    std::string address() const { return "@" + name_; }

    // The next message, or nullopt when none comes within `timeout`.
    std::optional<std::string> receive(std::chrono::milliseconds timeout) {
        pollfd p{fd_.get(), POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0)
            return std::nullopt;
        char buf[4096];
        const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
        if (n < 0)
            return std::nullopt;
        return std::string(buf, static_cast<std::size_t>(n));
    }

    // Reads until a message containing `part` arrives (returned) or
    // `timeout` passes (nullopt). Each message read is passed to `seen`.
    template <class F>
    std::optional<std::string> until(const std::string& part, std::chrono::milliseconds timeout,
                                     F&& seen) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (true) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0)
                return std::nullopt;
            auto m = receive(left);
            if (!m)
                return std::nullopt;
            seen(*m);
            if (m->find(part) != std::string::npos)
                return m;
        }
    }
    std::optional<std::string> until(const std::string& part, std::chrono::milliseconds timeout) {
        return until(part, timeout, [](const std::string&) {});
    }

private:
    fd_guard fd_;
    std::string name_;
};

} // namespace stemd::test
