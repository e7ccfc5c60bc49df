// The listeners' limits with the real binary: headers, bodies, slow
// senders, idle keep-alive and open connections.

#include "integration/stack.hpp"
#include "integration/tls_client.hpp"

#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <optional>

namespace json = boost::json;
namespace net = boost::asio;
namespace http = boost::beast::http;
using namespace stemd;
using namespace stemd::test;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

namespace {

std::chrono::milliseconds since(steady_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t);
}

} // namespace

TEST_CASE("both listeners refuse oversized headers and bodies") {
    stack s("listener-sizes");
    s.start_serve();
    for (int port : {s.webhook_port(), s.api_port()}) {
        CAPTURE(port);
        // Just under 8 KiB of header block is served; just over is 431.
        {
            raw_connection c(port);
            REQUIRE(
                c.send(raw_get("/healthz", "X-Padding: " + std::string(7 * 1024, 'a') + "\r\n")));
            auto a = c.read_response();
            CHECK(a.status != 0);
            CHECK(a.status != 431);
        }
        {
            raw_connection c(port);
            REQUIRE(
                c.send(raw_get("/healthz", "X-Padding: " + std::string(9 * 1024, 'a') + "\r\n")));
            auto refused = c.read_response();
            CHECK(refused.status == 431);
            // The listener's own refusals carry the one error shape too.
            CHECK_MESSAGE(refused.body.starts_with(R"({"ok":false,"error":")"), refused.body);
            CHECK(c.closed_within(5s));
        }
        // Exactly 1 MiB of body reaches the handler; one byte more is 413,
        // decided from Content-Length before any of the body is read.
        const std::string target = port == s.api_port() ? "/v1/jobs" : "/webhook/x";
        // The API refuses a request without its token or of another type
        // from the header (401, 415), before any body limit; so these carry both.
        const std::string auth = port == s.api_port() ? "Authorization: Bearer " + s.api_token() +
                                                            "\r\nContent-Type: application/json\r\n"
                                                      : "";
        const std::string at_limit_body(1024 * 1024, 'a');
        auto at_limit = port == s.api_port() ? s.api_request("POST", target, at_limit_body)
                                             : http_request(port, "POST", target, at_limit_body);
        CHECK(at_limit.status != 0);
        CHECK(at_limit.status != 413);
        {
            raw_connection c(port);
            REQUIRE(c.send("POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth +
                           "Content-Length: 1048577\r\n\r\n{"));
            auto refused = c.read_response();
            CHECK(refused.status == 413);
            CHECK_MESSAGE(refused.body.starts_with(R"({"ok":false,"error":")"), refused.body);
        }
        // A chunked body has no length to judge up front: cut at the limit.
        {
            raw_connection c(port);
            REQUIRE(c.send("POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth +
                           "Transfer-Encoding: chunked\r\n\r\n"));
            std::string chunk(64 * 1024, 'a');
            char size_line[32];
            std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
            for (int i = 0; i < 17 && c.send(size_line + chunk + "\r\n"); ++i) {
            }
            CHECK(c.read_response().status == 413);
        }
    }
    CHECK(s.serve().running());
}

// The refusal is decided from the header while the client is still
// uploading far more than the socket buffers hold. Closing at once would
// make the kernel answer the unread bytes with a reset, which destroys the
// 413 before the client reads it; the listener must drain instead.
TEST_CASE("a refused upload is answered while the client is still sending it") {
    const std::string huge(24 * 1024 * 1024, 'a');
    SUBCASE("plain HTTP, both listeners") {
        stack s("listener-linger");
        s.start_serve();
        for (int port : {s.webhook_port(), s.api_port()}) {
            CAPTURE(port);
            const std::string target = port == s.api_port() ? "/v1/jobs" : "/webhook/x";
            // With the token: without it the API refuses from the header (401).
            auto a = port == s.api_port() ? s.api_request("POST", target, huge)
                                          : http_request(port, "POST", target, huge);
            CHECK_MESSAGE(a.status == 413, a.body);
            CHECK(a.body.find("too large") != std::string::npos);
        }
        CHECK(s.serve().running());
    }
    SUBCASE("HTTPS on the webhook listener") {
        stack s("listener-linger-tls", {.webhook_tls = true});
        s.start_serve();
        net::io_context ctx;
        auto trust = client::make_tls_client_context(s.ca().ca_cert.string());
        std::optional<client::connection> c;
        REQUIRE(run_on(ctx, open_into(c, https_url(s.webhook_port()), *trust)));
        http::request<http::string_body> req{http::verb::post, "/webhook/x", 11};
        req.set(http::field::host, "127.0.0.1");
        req.body() = huge;
        req.prepare_payload();
        CHECK(run_on(ctx, status_of(*c, std::move(req))) == 413);
        CHECK(s.serve().running());
    }
}

TEST_CASE("slow senders and idle keep-alive connections are dropped on time") {
    stack s("listener-timeouts", {.limits_config = "request_timeout = 1\nidle_timeout = 1\n"});
    s.start_serve();
    const int port = s.webhook_port();

    SUBCASE("half a request, then nothing") {
        raw_connection c(port);
        REQUIRE(c.send("POST /webhook/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n"
                       "\r\n" +
                       std::string(50, '{')));
        const auto start = steady_clock::now();
        CHECK(c.closed_within(5s));
        CHECK(since(start) >= 500ms);
    }
    SUBCASE("a byte every 100 ms: the whole request has a deadline, not each read") {
        raw_connection c(port);
        const std::string request =
            raw_get("/healthz", "X-Slow: " + std::string(200, 'a') + "\r\n");
        const auto start = steady_clock::now();
        bool closed = false;
        for (char byte : request) {
            if (!c.send(std::string(1, byte)) || c.closed_within(100ms)) {
                closed = true;
                break;
            }
        }
        CHECK(closed);
        CHECK(since(start) < 4s);
    }
    SUBCASE("a kept-alive connection is served, then closed after idling") {
        raw_connection c(s.api_port());
        REQUIRE(c.send(raw_get("/healthz")));
        CHECK(c.read_response().status == 200);
        REQUIRE(c.send(raw_get("/healthz")));
        CHECK(c.read_response().status == 200);
        const auto start = steady_clock::now();
        CHECK(c.closed_within(5s));
        CHECK(since(start) >= 500ms);
    }
    CHECK(s.serve().running());
    CHECK(http_request(s.api_port(), "GET", "/healthz").status == 200);
}

TEST_CASE("connections beyond max_connections are closed at once") {
    stack s("listener-cap", {.limits_config = "max_connections = 4\n"});
    s.start_serve();
    const int port = s.webhook_port();

    // Four connections, each proven accepted by an answer, then held idle.
    std::vector<std::unique_ptr<raw_connection>> held;
    for (int i = 0; i < 4; ++i) {
        held.push_back(std::make_unique<raw_connection>(port));
        REQUIRE(held.back()->send(raw_get("/")));
        REQUIRE(held.back()->read_response().status == 404);
    }
    // The fifth is closed without a word, the four keep working, and the
    // other listener has its own allowance.
    {
        raw_connection fifth(port);
        fifth.send(raw_get("/"));
        auto a = fifth.read_response(5s);
        CHECK(a.status == 0);
        CHECK_MESSAGE(a.body == "connection closed without a response", a.body);
    }
    for (auto& c : held) {
        REQUIRE(c->send(raw_get("/")));
        CHECK(c->read_response().status == 404);
    }
    CHECK(http_request(s.api_port(), "GET", "/healthz").status == 200);

    // Once one of the four goes, a new connection is served again.
    held.pop_back();
    CHECK(wait_until(
        [&] {
            raw_connection c(port);
            return c.send(raw_get("/")) && c.read_response(2s).status == 404;
        },
        10s));
}
