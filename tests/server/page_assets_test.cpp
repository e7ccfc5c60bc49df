#include "server/page_assets.hpp"

#include "server/page_route.hpp"
#include "server/reply.hpp"
#include "server_fixture.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

using namespace stemd;
using namespace stemd::server;
using namespace stemd::server::testing;
namespace http = boost::beast::http;

namespace {

listener::response get(std::string target, http::verb method = http::verb::get,
                       std::string if_none_match = {}) {
    auto req = make_request(method, target);
    if (!if_none_match.empty())
        req.set(http::field::if_none_match, if_none_match);
    const std::string path = target.substr(0, target.find('?'));
    return page_response(req, path);
}

void check_page_headers(const listener::response& r) {
    CHECK(r["Content-Security-Policy"] == page_security_policy);
    CHECK(r["X-Content-Type-Options"] == "nosniff");
    CHECK(r["Referrer-Policy"] == "no-referrer");
    CHECK(r[http::field::cache_control] == "no-cache");
}

} // namespace

TEST_CASE("page assets: every file is built in, at its path, with its type") {
    const std::pair<std::string_view, std::string_view> expected[] = {
        {"/", "text/html; charset=utf-8"},
        {"/assets/app.css", "text/css; charset=utf-8"},
        {"/assets/api.js", "text/javascript; charset=utf-8"},
        {"/assets/jobs.js", "text/javascript; charset=utf-8"},
        {"/assets/job.js", "text/javascript; charset=utf-8"},
        {"/assets/submit.js", "text/javascript; charset=utf-8"},
        {"/assets/app.js", "text/javascript; charset=utf-8"},
        {"/assets/favicon.svg", "image/svg+xml"},
    };
    CHECK(page_assets().size() == std::size(expected));
    std::set<std::string_view> etags;
    for (const auto& [path, type] : expected) {
        CAPTURE(path);
        const auto* a = find_page_asset(path);
        REQUIRE(a != nullptr);
        CHECK(a->content_type == type);
        CHECK(a->bytes.size() > 100);
        // Strong, quoted, and different for different bytes.
        CHECK(a->etag.starts_with('"'));
        CHECK(a->etag.ends_with('"'));
        CHECK(a->etag.size() == 34);
        etags.insert(a->etag);
    }
    CHECK(etags.size() == std::size(expected));
    CHECK(find_page_asset("/assets/app.js")->bytes.find("EventSource") != std::string_view::npos);
    CHECK(find_page_asset("/assets/job.js")->bytes.find("/waveform") != std::string_view::npos);
    CHECK(find_page_asset("/assets/nope.js") == nullptr);
    CHECK(find_page_asset("/index.html") == nullptr);
}

TEST_CASE("page assets: the page loads every script, in order, app.js (which starts it) last") {
    const auto html = find_page_asset("/")->bytes;
    std::size_t scripts = 0;
    std::size_t last_at = 0;
    for (const auto& a : page_assets()) {
        if (!a.path.ends_with(".js"))
            continue;
        CAPTURE(a.path);
        ++scripts;
        const auto at = html.find("<script src=\"" + std::string(a.path) + "\" defer></script>");
        REQUIRE(at != std::string_view::npos);
        CHECK(at > last_at); // the build lists them in the order they load
        last_at = at;
    }
    CHECK(scripts == 5);
    CHECK(html.rfind("<script") == html.find("<script src=\"/assets/app.js\""));
}

TEST_CASE("page assets: the page holds no inline script or style (the CSP forbids them)") {
    const auto html = find_page_asset("/")->bytes;
    CHECK(html.find("<script>") == std::string_view::npos);
    CHECK(html.find("style=") == std::string_view::npos);
    CHECK(html.find("<style") == std::string_view::npos);
    CHECK(html.find("http://") == std::string_view::npos);
    CHECK(html.find("https://") == std::string_view::npos);
}

TEST_CASE("page route: 200 with type, ETag and the security headers, and HEAD without a body") {
    for (const auto& a : page_assets()) {
        CAPTURE(a.path);
        auto r = get(std::string(a.path));
        CHECK(r.result_int() == 200);
        CHECK(r[http::field::content_type] == a.content_type);
        CHECK(r[http::field::etag] == a.etag);
        CHECK(r.body() == a.bytes);
        check_page_headers(r);
        auto head = get(std::string(a.path), http::verb::head);
        CHECK(head.result_int() == 200);
        CHECK(head.body().empty());
        CHECK(head[http::field::content_length] == std::to_string(a.bytes.size()));
        CHECK(head[http::field::etag] == a.etag);
    }
    // The ETag is a digest of the bytes: the same on every answer.
    CHECK(get("/")[http::field::etag] == get("/")[http::field::etag]);
}

TEST_CASE("page route: If-None-Match with the ETag is 304 without a body") {
    const auto* js = find_page_asset("/assets/app.js");
    const std::string etag(js->etag);
    for (const std::string& inm : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
        CAPTURE(inm);
        auto r = get("/assets/app.js", http::verb::get, inm);
        CHECK(r.result_int() == 304);
        CHECK(r.body().empty());
        CHECK(r[http::field::etag] == etag);
        check_page_headers(r);
    }
    CHECK(get("/assets/app.js", http::verb::get, "\"other\"").result_int() == 200);
    CHECK(get("/assets/app.js", http::verb::get, std::string(find_page_asset("/")->etag))
              .result_int() == 200);
}

TEST_CASE("page route: an unknown asset is 404, another method 405") {
    CHECK(refused(get("/assets/missing.js"), 404).find("/assets/missing.js") != std::string::npos);
    CHECK(refused(get("/assets/"), 404).find("no page asset") != std::string::npos);
    CHECK(refused(get("/assets/app.js", http::verb::post), 405).find("GET or HEAD") !=
          std::string::npos);
    CHECK(is_page_path("/"));
    CHECK(is_page_path("/assets/app.css"));
    CHECK_FALSE(is_page_path("/v1/jobs"));
    CHECK_FALSE(is_page_path("/index.html"));
}

TEST_CASE("etag_matches: lists, weak forms and *") {
    CHECK(etag_matches("\"a\"", "\"a\""));
    CHECK(etag_matches(" \"b\" , \"a\" ", "\"a\""));
    CHECK(etag_matches("W/\"a\"", "\"a\""));
    CHECK(etag_matches("*", "\"a\""));
    CHECK_FALSE(etag_matches("\"ab\"", "\"a\""));
    CHECK_FALSE(etag_matches("", "\"a\""));
    CHECK_FALSE(etag_matches("a", "\"a\""));
}

TEST_CASE("page route: with stems in S3 the CSP lets <audio> load from the endpoint's origin") {
    // Without an S3 origin: the fixed policy, unchanged.
    CHECK(page_policy("") == page_security_policy);
    check_page_headers(get("/"));

    const std::string origin = "https://s3.eu-west-1.amazonaws.com";
    const std::string policy = page_policy(origin);
    CHECK(policy.find("media-src 'self' " + origin + ";") != std::string::npos);
    // Only media-src: the page fetches nothing but the API.
    CHECK(policy.find("connect-src 'self';") != std::string::npos);
    CHECK(policy.find(origin) == policy.rfind(origin));
    CHECK(policy.find("default-src 'self';") != std::string::npos);

    auto req = make_request(http::verb::get, "/");
    auto r = page_response(req, "/", "http://127.0.0.1:9000");
    CHECK(r.result_int() == 200);
    CHECK(r["Content-Security-Policy"] == page_policy("http://127.0.0.1:9000"));
    const std::string sent(r["Content-Security-Policy"]);
    CHECK(sent.find("media-src 'self' http://127.0.0.1:9000;") != std::string::npos);
    auto missing = page_response(req, "/assets/missing.js", "http://127.0.0.1:9000");
    CHECK(missing.result_int() == 404);
    CHECK(missing["Content-Security-Policy"] == page_policy("http://127.0.0.1:9000"));

    // A text that is not an origin cannot add a directive.
    CHECK(page_policy("https://s3.example; script-src *") == page_security_policy);
    CHECK(page_policy("s3.example") == page_security_policy);
    CHECK(page_policy("ftp://s3.example") == page_security_policy);
}
