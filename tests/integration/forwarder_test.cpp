// The suite's round-robin forwarder, against plain loopback servers: each
// connection goes to the next backend, a backend that refuses is skipped,
// and the whole request and answer pass through.

#include "support/forwarder.hpp"

#include "support/fd.hpp"
#include "support/http_probe.hpp"
#include "support/process.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>

#include <poll.h>
#include <sys/socket.h>

using namespace stemd::test;

namespace {

// Answers every connection with "HTTP/1.1 200" naming itself and the
// request's target, then closes, until destroyed.
class named_backend {
public:
    explicit named_backend(std::string name) : name_(std::move(name)) {
        sock_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        const sockaddr_in addr = loopback_address(port_.number());
        REQUIRE(::bind(sock_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(sock_.get(), 16) == 0);
        thread_ = std::thread([this] { serve(); });
    }
    ~named_backend() {
        stop_ = true;
        thread_.join();
    }
    int port() const { return port_.number(); }

private:
    void serve() {
        while (!stop_) {
            pollfd p{sock_.get(), POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0)
                continue;
            const fd_guard c(::accept4(sock_.get(), nullptr, nullptr, SOCK_CLOEXEC));
            std::string request;
            char buffer[4096];
            while (request.find("\r\n\r\n") == std::string::npos) {
                const ssize_t n = ::recv(c.get(), buffer, sizeof buffer, 0);
                if (n <= 0)
                    break;
                request.append(buffer, static_cast<std::size_t>(n));
            }
            const std::string target = request.substr(4, request.find(' ', 4) - 4);
            const std::string body = name_ + " " + target;
            const std::string answer =
                "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                "\r\nConnection: close\r\n\r\n" + body;
            ::send(c.get(), answer.data(), answer.size(), MSG_NOSIGNAL);
        }
    }

    std::string name_;
    reserved_port port_;
    fd_guard sock_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

} // namespace

TEST_CASE("forwarder: round robin over the backends, skipping one that refuses") {
    named_backend a("a");
    named_backend b("b");
    const reserved_port nobody; // reserved, nothing listens
    forwarder f({a.port(), nobody.number(), b.port()});
    std::string seen;
    for (int i = 0; i < 4; ++i) {
        const auto answer = http_request(f.port(), "GET", "/hook/" + std::to_string(i));
        CHECK(answer.status == 200);
        seen += answer.body + ";";
    }
    CHECK(seen == "a /hook/0;b /hook/1;a /hook/2;b /hook/3;");
    CHECK(f.forwarded() == std::vector<std::uint64_t>{2, 0, 2});
    CHECK(f.dropped() == 0);
}

TEST_CASE("forwarder: a connection no backend takes is closed and counted") {
    const reserved_port nobody;
    forwarder f({nobody.number()});
    const auto answer = http_request(f.port(), "GET", "/hook");
    CHECK(answer.status != 200);
    CHECK(wait_until([&] { return f.dropped() == 1; }, std::chrono::seconds(5)));
    CHECK(f.forwarded() == std::vector<std::uint64_t>{0});
}
