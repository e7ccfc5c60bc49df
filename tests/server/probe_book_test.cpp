#include "server/probe_book.hpp"

#include "server/webhook_handler.hpp"
#include "server_fixture.hpp"

#include <doctest/doctest.h>

using namespace stemd;
using namespace stemd::server::testing;
namespace http = boost::beast::http;

TEST_CASE("probe book: only an id it issued in the last minute arrives") {
    server::probe_book book;
    const auto id = book.issue(1000);
    REQUIRE(id.size() == 32);
    CHECK_FALSE(book.arrive("0123456789abcdef0123456789abcdef", 1000));
    CHECK_FALSE(book.arrive("", 1000));
    CHECK(book.arrive(id, 1000 + server::probe_book::lifetime - 1));
    CHECK(book.settle(id));
    CHECK_FALSE(book.settle(id)); // retired
    CHECK_FALSE(book.arrive(id, 2000));
}

TEST_CASE("probe book: an id expires after a minute, and strangers leave nothing behind") {
    server::probe_book book;
    const auto id = book.issue(0);
    for (int i = 0; i < 100; ++i)
        CHECK_FALSE(book.arrive("stranger-" + std::to_string(i), 10));
    CHECK(book.live() == 1);
    CHECK_FALSE(book.arrive(id, server::probe_book::lifetime));
    CHECK(book.live() == 0);
    CHECK_FALSE(book.settle(id));
}

TEST_CASE("probe book: at most `capacity` ids are live") {
    server::probe_book book;
    for (std::size_t i = 0; i < server::probe_book::capacity; ++i)
        CHECK(!book.issue(0).empty());
    CHECK(book.issue(0).empty());
    CHECK(!book.issue(server::probe_book::lifetime).empty()); // the old ones expired
}

TEST_CASE("probe book: probe paths are two segments below /webhook/") {
    CHECK(server::probe_path("abc") == "/webhook/probe/abc");
    CHECK(server::probe_id("/webhook/probe/abc") == "abc");
    CHECK(server::probe_id("/webhook/probe/abc?x=1") == "abc");
    CHECK(server::probe_id("/webhook/probe/") == "");
    CHECK(server::probe_id("/webhook/probe/a/b") == "");
    CHECK(server::probe_id("/webhook/abc") == "");
}

TEST_CASE_FIXTURE(service_fixture, "probe book: the webhook handler answers a probe it issued") {
    server::probe_book book;
    server::webhook_context ctx{*service, "", std::nullopt, &book};
    const auto get = [&](const std::string& target, http::verb verb = http::verb::get) {
        auto req = make_request(verb, target, "");
        return server::handle_webhook(ctx, req);
    };
    const auto id = book.issue(now_millis());
    CHECK(refused(get("/webhook/probe/not-issued"), 404) == "not found");
    CHECK(refused(get(server::probe_path(id), http::verb::post), 404) == "not found");
    CHECK(get(server::probe_path(id)).result_int() == 200);
    CHECK(book.settle(id));
}
