#pragma once

// stemd's own HTTPS client driven from a test thread, for the integration
// tests that talk TLS to the listener: one coroutine at a time on an
// io_context the test owns.

#include "client/connection.hpp"
#include "client/tls.hpp"
#include "client/url.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <utility>

namespace stemd::test {

// Runs one coroutine to completion on `ctx` (which may be reused).
template <class T> T run_on(boost::asio::io_context& ctx, boost::asio::awaitable<T> work) {
    std::optional<T> out;
    std::exception_ptr failure;
    boost::asio::co_spawn(ctx, std::move(work), [&](std::exception_ptr e, T value) {
        failure = e;
        if (!e)
            out.emplace(std::move(value));
    });
    ctx.restart();
    ctx.run();
    if (failure)
        std::rethrow_exception(failure);
    return std::move(*out);
}

inline client::connect_options quick() {
    using namespace std::chrono_literals;
    client::connect_options o;
    o.connect_timeout = 2s;
    o.io_timeout = 5s;
    return o;
}

inline client::http_url https_url(int port) {
    return *client::parse_http_url("https://127.0.0.1:" + std::to_string(port) + "/");
}

inline boost::asio::awaitable<bool> open_into(std::optional<client::connection>& out,
                                              client::http_url url,
                                              boost::asio::ssl::context& tls) {
    auto c = co_await client::connection::open(url, quick(), tls);
    if (!c)
        co_return false;
    out.emplace(std::move(*c));
    co_return true;
}

// Sends `req` on an open connection, kept alive; the answer's status or 0.
inline boost::asio::awaitable<int>
status_of(client::connection& c, boost::beast::http::request<boost::beast::http::string_body> req) {
    if (!co_await c.write(req))
        co_return 0;
    auto res = co_await c.read(64 * 1024);
    co_return res ? static_cast<int>(res->result_int()) : 0;
}

} // namespace stemd::test
