#include "server/api_access.hpp"

#include "server/error.hpp"
#include "server/session_book.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace stemd::server;

namespace {

const std::string token = "0123456789abcdef0123456789abcdef";
// request_facts holds views: the header values live here.
const std::string bearer = "Bearer " + token;
const std::string basic = "Basic " + token;

api_access access_with(std::vector<std::string> allowed = {}) {
    return api_access(token, std::move(allowed), "/var/lib/stemd/api-token");
}

// A GET of /v1/jobs from the CLI: every check passes.
request_facts good_get() {
    return {"GET", "/v1/jobs", "127.0.0.1:8081", std::nullopt, bearer, std::nullopt};
}

} // namespace

TEST_CASE("api_access: bearer_token takes the token of a Bearer value only") {
    CHECK(bearer_token("Bearer abc") == "abc");
    CHECK(bearer_token("bearer   abc  ") == "abc");
    CHECK(bearer_token("BEARER\tabc") == "abc");
    CHECK_FALSE(bearer_token("Bearer"));
    CHECK_FALSE(bearer_token("Bearer "));
    CHECK_FALSE(bearer_token("Bearerabc"));
    CHECK_FALSE(bearer_token("Basic YWxhZGRpbjpvcGVuc2VzYW1l"));
    CHECK_FALSE(bearer_token(""));
}

TEST_CASE("api_access: host_name drops the port and lowercases") {
    CHECK(host_name("127.0.0.1:8081") == "127.0.0.1");
    CHECK(host_name("LocalHost") == "localhost");
    CHECK(host_name("[::1]:8081") == "[::1]");
    CHECK(host_name("[::1]") == "[::1]");
    CHECK(host_name("stemd.lan:80") == "stemd.lan");
    CHECK(host_name("").empty());
    CHECK(host_name("[::1").empty());
    CHECK(host_name("[::1]x").empty());
    CHECK(host_name("host:port").empty());
}

TEST_CASE("api_access: loopback hosts and allowed names pass, others do not") {
    const std::vector<std::string> none;
    for (const char* good : {"localhost", "localhost:8081", "127.0.0.1", "127.0.0.1:8081",
                             "127.1.2.3:9", "[::1]", "[::1]:8081", "LOCALHOST:1"}) {
        CAPTURE(good);
        CHECK(host_allowed(good, none));
    }
    for (const char* bad :
         {"evil.example", "evil.example:8081", "", "128.0.0.1", "0.0.0.0", "10.0.0.1:8081",
          "[::2]:8081", "localhost.evil.example", "127.0.0.1.evil.example", "::1"}) {
        CAPTURE(bad);
        CHECK_FALSE(host_allowed(bad, none));
    }
    const std::vector<std::string> allowed{"stemd.lan"};
    CHECK(host_allowed("stemd.lan", allowed));
    CHECK(host_allowed("STEMD.lan:8081", allowed));
    CHECK_FALSE(host_allowed("evil.stemd.lan", allowed));
}

TEST_CASE("api_access: only the listener's own origin is the same origin") {
    CHECK(same_origin("http://127.0.0.1:8081", "127.0.0.1:8081"));
    CHECK(same_origin("HTTP://LocalHost:8081", "localhost:8081"));
    CHECK_FALSE(same_origin("http://evil.example", "127.0.0.1:8081"));
    CHECK_FALSE(same_origin("http://127.0.0.1:8082", "127.0.0.1:8081"));
    CHECK_FALSE(same_origin("https://127.0.0.1:8081", "127.0.0.1:8081"));
    CHECK_FALSE(same_origin("null", "127.0.0.1:8081"));
    CHECK_FALSE(same_origin("http://", ""));
}

TEST_CASE("api_access: media_type ignores case, blanks and parameters") {
    CHECK(media_type("application/json") == "application/json");
    CHECK(media_type(" Application/JSON ; charset=utf-8") == "application/json");
    CHECK(media_type("text/plain") == "text/plain");
    CHECK(media_type("").empty());
}

TEST_CASE("api_access: the token is compared whole") {
    const auto a = access_with();
    CHECK(a.token_matches(token));
    CHECK_FALSE(a.token_matches(token.substr(0, 31)));
    CHECK_FALSE(a.token_matches(token + "0"));
    CHECK_FALSE(a.token_matches(""));
}

TEST_CASE("api_access: check refuses in order Host, Origin, token, Content-Type") {
    const auto a = access_with({"stemd.lan"});
    CHECK(a.check(good_get()).has_value());

    auto r = good_get();
    r.host = "evil.example";
    r.origin = "http://evil.example";
    r.authorization = std::nullopt;
    auto refused = a.check(r);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == error::misdirected);
    CHECK(refused.error().message.find("api.allowed_hosts") != std::string::npos);

    r.host = "stemd.lan:8081";
    refused = a.check(r);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == error::cross_origin);

    r.origin = "http://stemd.lan:8081";
    refused = a.check(r);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == error::unauthorized);
    CHECK(refused.error().message.find("/var/lib/stemd/api-token") != std::string::npos);

    r.authorization = "Bearer wrong";
    CHECK(a.check(r).error().code == error::unauthorized);
    r.authorization = basic;
    CHECK(a.check(r).error().code == error::unauthorized);
    r.authorization = bearer;
    CHECK(a.check(r).has_value());

    r.method = "POST";
    r.content_type = "text/plain";
    refused = a.check(r);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == error::unsupported_media_type);
    CHECK(refused.error().message.find("application/json") != std::string::npos);
    r.content_type = std::nullopt;
    CHECK(a.check(r).error().code == error::unsupported_media_type);
    r.content_type = "application/json; charset=utf-8";
    CHECK(a.check(r).has_value());
}

TEST_CASE("api_access: GET /healthz needs no token, but a loopback Host") {
    const auto a = access_with();
    request_facts r{"GET", "/healthz", "127.0.0.1:8081", std::nullopt, std::nullopt, std::nullopt};
    CHECK(a.check(r).has_value());
    r.method = "POST";
    CHECK(a.check(r).error().code == error::unauthorized);
    r.method = "GET";
    r.host = "evil.example";
    CHECK(a.check(r).error().code == error::misdirected);
    r.host = std::nullopt;
    CHECK(a.check(r).error().code == error::misdirected);
}

TEST_CASE("api_access: every route that takes a body accepts JSON") {
    for (const char* path : {"/v1/jobs", "/v1/jobs/j_1/retry", "/other"}) {
        const auto types = accepted_media_types(path);
        CHECK(std::find(types.begin(), types.end(), "application/json") != types.end());
    }
}

TEST_CASE("api_access: cookie_value finds one cookie by its exact name") {
    CHECK(cookie_value("stemd_session=abc", "stemd_session") == "abc");
    CHECK(cookie_value("a=1; stemd_session=abc; b=2", "stemd_session") == "abc");
    CHECK(cookie_value("a=1;stemd_session=abc", "stemd_session") == "abc");
    CHECK(cookie_value("  stemd_session = \"abc\" ", "stemd_session") == "abc");
    CHECK(cookie_value("stemd_session=", "stemd_session") == "");
    CHECK(cookie_value("x_stemd_session=abc; stemd_session=def", "stemd_session") == "def");
    CHECK_FALSE(cookie_value("Stemd_Session=abc", "stemd_session"));
    CHECK_FALSE(cookie_value("stemd_session_x=abc", "stemd_session"));
    CHECK_FALSE(cookie_value("stemd_session", "stemd_session"));
    CHECK_FALSE(cookie_value("", "stemd_session"));
    CHECK_FALSE(cookie_value(";;", "stemd_session"));
}

TEST_CASE("api_access: the page and signing in need no token, everything else does") {
    for (auto [method, path] : {std::pair{"GET", "/"},
                                {"HEAD", "/"},
                                {"GET", "/assets/app.js"},
                                {"HEAD", "/assets/style.css"},
                                {"GET", "/healthz"},
                                {"POST", "/v1/session"}}) {
        CAPTURE(path);
        CHECK(needs_no_token(method, path));
    }
    for (auto [method, path] : {std::pair{"POST", "/"},
                                {"GET", "/v1/jobs"},
                                {"GET", "/v1/session"},
                                {"DELETE", "/v1/session"},
                                {"POST", "/v1/session/code"},
                                {"GET", "/assets"},
                                {"POST", "/assets/x"},
                                {"HEAD", "/healthz"},
                                {"GET", "/index.html"}}) {
        CAPTURE(path);
        CHECK_FALSE(needs_no_token(method, path));
    }
}

namespace {

// A request from the signed-in page: the session's cookie, no Authorization.
struct page_request {
    std::string cookie;
    std::string csrf;
    request_facts facts(std::string_view method, std::string_view path) const {
        request_facts r{method,           path,
                        "127.0.0.1:8081", "http://127.0.0.1:8081",
                        std::nullopt,     "application/json"};
        r.cookie = cookie;
        r.csrf = csrf;
        return r;
    }
};

constexpr stemd::millis now = 1'800'000'000'000;

} // namespace

TEST_CASE("api_access: a session cookie passes, with its CSRF token on changes") {
    session_book sessions;
    const api_access a(token, {}, "/var/lib/stemd/api-token", &sessions);
    const auto ticket = sessions.open(now);
    const page_request page{"theme=dark; stemd_session=" + ticket.id, ticket.csrf};

    CHECK(a.check(page.facts("GET", "/v1/jobs"), now).has_value());
    CHECK(a.check(page.facts("HEAD", "/v1/jobs"), now).has_value());
    CHECK(a.check(page.facts("POST", "/v1/jobs"), now).has_value());
    CHECK(a.check(page.facts("DELETE", "/v1/session"), now).has_value());

    auto r = page.facts("POST", "/v1/jobs");
    r.csrf = std::nullopt;
    auto refused = a.check(r, now);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == error::csrf_mismatch);
    CHECK(refused.error().message.find("X-CSRF-Token") != std::string::npos);
    const std::string wrong(64, '0');
    r.csrf = wrong;
    CHECK(a.check(r, now).error().code == error::csrf_mismatch);
    // Another session's CSRF token is no better.
    const auto other = sessions.open(now);
    r.csrf = other.csrf;
    CHECK(a.check(r, now).error().code == error::csrf_mismatch);
    // A GET needs none.
    r = page.facts("GET", "/v1/jobs");
    r.csrf = std::nullopt;
    CHECK(a.check(r, now).has_value());

    // Origin still decides first: another site's page gets nowhere with the cookie.
    r = page.facts("GET", "/v1/jobs");
    r.origin = "http://evil.example";
    CHECK(a.check(r, now).error().code == error::cross_origin);
}

TEST_CASE("api_access: an unknown or ended session is unauthorized") {
    session_book sessions;
    const api_access a(token, {}, "/var/lib/stemd/api-token", &sessions);
    const auto ticket = sessions.open(now);
    page_request page{"stemd_session=" + std::string(64, 'f'), ticket.csrf};
    auto refused = a.check(page.facts("GET", "/v1/jobs"), now);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == error::unauthorized);
    CHECK(refused.error().message.find("POST /v1/session") != std::string::npos);

    page.cookie = "stemd_session=" + ticket.id;
    CHECK(a.check(page.facts("GET", "/v1/jobs"), now).has_value());
    sessions.close_all();
    CHECK(a.check(page.facts("GET", "/v1/jobs"), now).error().code == error::unauthorized);

    // Without a session book, a cookie is no credential at all.
    const api_access no_book(token, {}, "/var/lib/stemd/api-token");
    page.cookie = "stemd_session=" + sessions.open(now).id;
    CHECK(no_book.check(page.facts("GET", "/v1/jobs"), now).error().code == error::unauthorized);
}

TEST_CASE("api_access: a bearer token decides alone, and only it gets a sign-in code") {
    session_book sessions;
    const api_access a(token, {}, "/var/lib/stemd/api-token", &sessions);
    const auto ticket = sessions.open(now);
    page_request page{"stemd_session=" + ticket.id, ticket.csrf};

    auto r = page.facts("POST", "/v1/session/code");
    auto refused = a.check(r, now);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == error::unauthorized);
    CHECK(refused.error().message.find("bearer token only") != std::string::npos);
    r.authorization = bearer;
    CHECK(a.check(r, now).has_value());
    // A wrong bearer token is not rescued by a good cookie.
    r = page.facts("GET", "/v1/jobs");
    r.authorization = "Bearer wrong";
    CHECK(a.check(r, now).error().code == error::unauthorized);
    // The bearer token needs no CSRF token: a browser never adds it by itself.
    r = page.facts("POST", "/v1/jobs");
    r.cookie = std::nullopt;
    r.csrf = std::nullopt;
    r.authorization = bearer;
    CHECK(a.check(r, now).has_value());
}

TEST_CASE("api_access: a new token replaces the old one") {
    auto a = access_with();
    const std::string next = "fedcba9876543210fedcba9876543210";
    a.set_token(next);
    CHECK(a.token_matches(next));
    CHECK_FALSE(a.token_matches(token));
}

TEST_CASE("api_access: POST /v1/session needs no token but a small body of known length") {
    const auto a = access_with();
    request_facts r{"POST",       "/v1/session", "127.0.0.1:8081",
                    std::nullopt, std::nullopt,  "application/json"};
    r.content_length = "40";
    CHECK(a.check(r, now).has_value());
    const std::string most = std::to_string(max_sign_in_body); // outlives the view
    r.content_length = most;
    CHECK(a.check(r, now).has_value());
    for (const char* bad : {"4097", "99999999999", "", "-1", "1e3"}) {
        CAPTURE(bad);
        r.content_length = bad;
        CHECK(a.check(r, now).error().code == error::body_too_large);
    }
    r.content_length = std::nullopt; // chunked: its length is not known up front
    CHECK(a.check(r, now).error().code == error::body_too_large);
    r.content_length = "40";
    r.content_type = "text/plain"; // a cross-site form's type
    CHECK(a.check(r, now).error().code == error::unsupported_media_type);
    r.content_type = "application/json";
    r.origin = "http://evil.example";
    CHECK(a.check(r, now).error().code == error::cross_origin);
}
