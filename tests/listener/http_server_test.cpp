#include "listener/http_server.hpp"

#include "support/fd.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <doctest/doctest.h>

#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <future>
#include <thread>

namespace net = boost::asio;
namespace http = boost::beast::http;
using namespace stemd::listener;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

// A server on 127.0.0.1 run by its own thread; the test talks to it over
// plain sockets.
class running_server {
public:
    running_server(handler h, server_limits limits = {})
        : guard_(net::make_work_guard(io_)),
          server_(io_.get_executor(), "127.0.0.1", 0, std::move(h), limits) {
        server_.start();
        thread_ = std::thread([this] { io_.run(); });
    }
    // Runs `f` on the server's thread and waits for it.
    template <class F> auto on_io(F f) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto result = task.get_future();
        net::post(io_, [&task] { task(); });
        return result.get();
    }
    ~running_server() {
        on_io([this] { server_.stop(); });
        guard_.reset();
        io_.stop();
        thread_.join();
    }
    int port() const { return server_.local_endpoint().port(); }
    std::size_t connections() {
        return on_io([this] { return server_.open_connections(); });
    }
    bool connections_drop_to_zero(std::chrono::milliseconds within) {
        const auto deadline = steady::now() + within;
        while (steady::now() < deadline) {
            if (connections() == 0)
                return true;
            std::this_thread::sleep_for(10ms);
        }
        return false;
    }
    void stop() {
        on_io([this] { server_.stop(); });
    }

private:
    net::io_context io_;
    net::executor_work_guard<net::io_context::executor_type> guard_;
    http_server server_;
    std::thread thread_;
};

int connect_and_get(int port, const std::string& target) {
    stemd::test::fd_guard fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const sockaddr_in addr = stemd::test::loopback_address(port);
    REQUIRE(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    const std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    REQUIRE(::send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(req.size()));
    return fd.release();
}

// Everything that arrives until the peer closes or `within` passes; `closed`
// says which.
std::string read_until_close(int fd, std::chrono::milliseconds within, bool& closed) {
    std::string got;
    closed = false;
    const auto deadline = steady::now() + within;
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
        pollfd p{fd, POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
            return got;
        char buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            closed = true;
            return got;
        }
        got.append(buf, static_cast<std::size_t>(n));
    }
}

reply open_ended(std::function<net::awaitable<std::string>()> stream) {
    reply r;
    r.message.result(http::status::ok);
    r.message.set(http::field::content_type, "text/event-stream");
    r.open_ended = true;
    r.stream = std::move(stream);
    return r;
}

// A stream that never has another chunk: it waits on a timer for an hour.
net::awaitable<std::string> forever() {
    net::steady_timer t(co_await net::this_coro::executor, std::chrono::hours(1));
    co_await t.async_wait(net::use_awaitable);
    co_return std::string("late\n");
}

} // namespace

TEST_CASE("http_server: an open-ended stream has no length, closes after its last chunk") {
    running_server server([](request&, const peer_info&) -> net::awaitable<reply> {
        auto left = std::make_shared<int>(3);
        co_return open_ended([left]() -> net::awaitable<std::string> {
            if (*left == 0)
                co_return std::string();
            co_return "chunk " + std::to_string((*left)--) + "\n";
        });
    });
    stemd::test::fd_guard fd(connect_and_get(server.port(), "/"));
    bool closed = false;
    const auto got = read_until_close(fd.get(), 5s, closed);
    CHECK(closed);
    CHECK(got.starts_with("HTTP/1.1 200"));
    CHECK(got.find("Content-Length") == std::string::npos);
    CHECK(got.find("Transfer-Encoding") == std::string::npos);
    CHECK(got.find("Connection: close") != std::string::npos);
    CHECK(got.ends_with("\r\n\r\nchunk 3\nchunk 2\nchunk 1\n"));
}

TEST_CASE("http_server: stop() ends a stream waiting for its next chunk at once") {
    running_server server([](request&, const peer_info&) -> net::awaitable<reply> {
        co_return open_ended([]() { return forever(); });
    });
    stemd::test::fd_guard fd(connect_and_get(server.port(), "/"));
    bool closed = false;
    CHECK(read_until_close(fd.get(), 300ms, closed).starts_with("HTTP/1.1 200"));
    REQUIRE_FALSE(closed);
    REQUIRE(server.connections() == 1);
    const auto asked = steady::now();
    server.stop();
    read_until_close(fd.get(), 3s, closed);
    CHECK(closed);
    CHECK(steady::now() - asked < 1s);
    CHECK(server.connections_drop_to_zero(1s));
}

TEST_CASE("http_server: a stream's reader that leaves is noticed without a write") {
    running_server server([](request&, const peer_info&) -> net::awaitable<reply> {
        co_return open_ended([]() { return forever(); });
    });
    stemd::test::fd_guard fd(connect_and_get(server.port(), "/"));
    bool closed = false;
    read_until_close(fd.get(), 300ms, closed);
    REQUIRE(server.connections() == 1);
    fd.reset();
    CHECK(server.connections_drop_to_zero(2s));
}

TEST_CASE("http_server: a stream's reader that stops reading is dropped after write_timeout") {
    server_limits limits;
    limits.write_timeout = 1s;
    running_server server(
        [](request&, const peer_info&) -> net::awaitable<reply> {
            co_return open_ended([]() -> net::awaitable<std::string> {
                co_return std::string(64 * 1024, 'x'); // as fast as it is taken
            });
        },
        limits);
    stemd::test::fd_guard fd(connect_and_get(server.port(), "/"));
    // Nothing is read: the socket buffers fill, then a write stalls.
    const auto deadline = steady::now() + 1s;
    while (server.connections() == 0 && steady::now() < deadline)
        std::this_thread::sleep_for(5ms);
    REQUIRE(server.connections() == 1);
    const auto stalled = steady::now();
    CHECK(server.connections_drop_to_zero(10s));
    CHECK(steady::now() - stalled < 5s);
}
