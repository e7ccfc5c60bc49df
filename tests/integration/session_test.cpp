// The page's sign-in with the real binary: POST /v1/session with the token or
// a one-time code from `stemd open`, the session cookie on every route, the
// CSRF token on changes, the Origin rule, the throttle on wrong tokens, and
// the sessions a SIGHUP with a new API token ends.

#include "integration/stack.hpp"
#include "support/sse_reader.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <strings.h>

#include <csignal>
#include <cstdio>

namespace json = boost::json;
using namespace stemd::test;
using namespace std::chrono_literals;

namespace {

const std::string job_body = R"({"audio_url":"https://cdn.example/song.mp3"})";

// The value of the one header `name` (case as sent), "" when absent.
std::string header_value(const http_answer& a, const std::string& name) {
    const std::string wanted = name + ": ";
    std::size_t at = 0;
    while (at < a.headers.size()) {
        const auto end = a.headers.find("\r\n", at);
        const std::string line = a.headers.substr(at, end - at);
        if (line.size() >= wanted.size() &&
            strcasecmp(line.substr(0, wanted.size()).c_str(), wanted.c_str()) == 0)
            return line.substr(wanted.size());
        if (end == std::string::npos)
            break;
        at = end + 2;
    }
    return {};
}

struct signed_in {
    http_answer answer;
    std::string cookie; // "stemd_session=<id>", as a browser sends it back
    std::string csrf;
};

signed_in sign_in(const stack& s, const std::string& body) {
    signed_in out{http_request(s.api_port(), "POST", "/v1/session", body), {}, {}};
    if (out.answer.status != 200)
        return out;
    const std::string set = header_value(out.answer, "Set-Cookie");
    out.cookie = set.substr(0, set.find(';'));
    out.csrf = str(json::parse(out.answer.body), "csrf");
    return out;
}

std::string token_body(const std::string& token) {
    return json::serialize(json::object{{"token", token}});
}

// A request as the signed-in page sends it: the cookie, the page's own
// Origin, and X-CSRF-Token when `csrf` is not empty; no Authorization.
http_answer as_page(const stack& s, const std::string& method, const std::string& target,
                    const signed_in& who, const std::string& csrf, const std::string& body = "",
                    const std::string& origin = "") {
    std::string headers =
        "Cookie: " + who.cookie + "\r\nOrigin: " + (origin.empty() ? s.api_url() : origin) + "\r\n";
    if (!csrf.empty())
        headers += "X-CSRF-Token: " + csrf + "\r\n";
    return http_request(s.api_port(), method, target, body, body.empty() ? "" : "application/json",
                        headers);
}

std::size_t job_count(stack& s) {
    const auto a = s.api_request("GET", "/v1/jobs", "", "");
    REQUIRE(a.status == 200);
    return json::parse(a.body).at("jobs").as_array().size();
}

} // namespace

TEST_CASE("session: the token signs the page in, and the cookie needs its CSRF token to change "
          "anything") {
    stack s("session-cookie");
    s.start_simulator();
    s.start_serve();

    const auto page = sign_in(s, token_body(s.api_token()));
    REQUIRE_MESSAGE(page.answer.status == 200, page.answer.body);
    const std::string set_cookie = header_value(page.answer, "Set-Cookie");
    CHECK(page.cookie.size() == std::string("stemd_session=").size() + 64);
    CHECK(set_cookie == page.cookie + "; HttpOnly; SameSite=Strict; Path=/");
    CHECK(header_value(page.answer, "Cache-Control") == "no-store");
    CHECK(json::parse(page.answer.body).at("ok") == true);
    CHECK(page.csrf.size() == 64);
    CHECK(s.serve_logs().find(page.cookie.substr(14)) == std::string::npos);
    CHECK(s.serve_logs().find(page.csrf) == std::string::npos);
    CHECK(s.serve_logs().find(s.api_token()) == std::string::npos);

    // Reading needs only the cookie.
    CHECK(as_page(s, "GET", "/v1/jobs", page, "").status == 200);
    const auto session = as_page(s, "GET", "/v1/session", page, "");
    CHECK(session.status == 200);
    CHECK(str(json::parse(session.body), "csrf") == page.csrf);

    // Changing needs the session's CSRF token too.
    const auto none = as_page(s, "POST", "/v1/jobs", page, "", job_body);
    CHECK(none.status == 403);
    CHECK_MESSAGE(none.body.find("X-CSRF-Token") != std::string::npos, none.body);
    CHECK(as_page(s, "POST", "/v1/jobs", page, std::string(64, '0'), job_body).status == 403);
    CHECK(job_count(s) == 0);
    const auto made = as_page(s, "POST", "/v1/jobs", page, page.csrf, job_body);
    CHECK_MESSAGE(made.status == 201, made.body);
    CHECK(job_count(s) == 1);

    // Another site's page gets nowhere, cookie or not.
    const auto evil = as_page(s, "GET", "/v1/jobs", page, "", "", "http://evil.example");
    CHECK(evil.status == 403);
    CHECK(as_page(s, "POST", "/v1/jobs", page, page.csrf, job_body, "http://evil.example").status ==
          403);
    CHECK(job_count(s) == 1);

    // A cookie is no way to mint sign-in codes.
    CHECK(as_page(s, "POST", "/v1/session/code", page, page.csrf, "{}").status == 401);

    // An unknown session is no session.
    signed_in stranger = page;
    stranger.cookie = "stemd_session=" + std::string(64, 'a');
    CHECK(as_page(s, "GET", "/v1/jobs", stranger, "").status == 401);
    CHECK(as_page(s, "GET", "/v1/session", stranger, "").status == 401);

    // Signing out ends it and clears the cookie.
    const auto out = as_page(s, "DELETE", "/v1/session", page, page.csrf);
    CHECK(out.status == 200);
    CHECK(header_value(out, "Set-Cookie") ==
          "stemd_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    CHECK(as_page(s, "GET", "/v1/jobs", page, "").status == 401);
    CHECK(as_page(s, "GET", "/v1/session", page, "").status == 401);

    // Signing out again with the stale cookie still clears it (CSRF or not).
    for (const std::string& csrf : {page.csrf, std::string()}) {
        const auto again = as_page(s, "DELETE", "/v1/session", page, csrf);
        CHECK_MESSAGE(again.status == 200, again.body);
        CHECK(header_value(again, "Set-Cookie") ==
              "stemd_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    }
    // A live session still needs its CSRF token to sign out.
    const auto live = sign_in(s, token_body(s.api_token()));
    REQUIRE(live.answer.status == 200);
    CHECK(as_page(s, "DELETE", "/v1/session", live, "").status == 403);
    CHECK(as_page(s, "GET", "/v1/session", live, "").status == 200);
}

TEST_CASE("session: a wrong token is 401, and more than 10 a minute are 429") {
    stack s("session-throttle");
    s.start_serve();
    const auto wrong = sign_in(s, token_body(std::string(64, 'f')));
    CHECK(wrong.answer.status == 401);
    CHECK(json::parse(wrong.answer.body).at("ok") == false);
    CHECK(wrong.answer.headers.find("Set-Cookie") == std::string::npos);
    CHECK(sign_in(s, R"({"token":1})").answer.status == 400);
    CHECK(http_request(s.api_port(), "POST", "/v1/session", std::string(5000, ' ')).status == 413);

    for (int i = 1; i < 10; ++i)
        REQUIRE(sign_in(s, token_body("guess-" + std::to_string(i))).answer.status == 401);
    // The eleventh try is refused even with the right token: guessing gets no answer.
    const auto throttled = sign_in(s, token_body(s.api_token()));
    CHECK(throttled.answer.status == 429);
    const std::string retry_after = header_value(throttled.answer, "Retry-After");
    REQUIRE_FALSE(retry_after.empty());
    CHECK(std::stoi(retry_after) >= 1);
    CHECK(std::stoi(retry_after) <= 60);
    // The CLI's bearer token is not throttled.
    CHECK(s.api_request("GET", "/v1/jobs", "", "").status == 200);
}

TEST_CASE("session: stemd open prints a link whose code signs in once") {
    stack s("session-open");
    s.start_serve();
    const auto r = s.cli({"open"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const std::string prefix = s.api_url() + "/#code=";
    REQUIRE_MESSAGE(r.out.starts_with(prefix), r.out);
    REQUIRE(r.out.ends_with("\n"));
    const std::string code = r.out.substr(prefix.size(), r.out.size() - prefix.size() - 1);
    CHECK(code.size() == 32);
    CHECK(s.serve_logs().find(code) == std::string::npos);

    const std::string body = json::serialize(json::object{{"code", code}});
    const auto first = sign_in(s, body);
    REQUIRE_MESSAGE(first.answer.status == 200, first.answer.body);
    CHECK(as_page(s, "GET", "/v1/jobs", first, "").status == 200);
    const auto second = sign_in(s, body);
    CHECK(second.answer.status == 401);
    CHECK(second.answer.body.find("stemd open") != std::string::npos);

    // The code route wants the bearer token.
    CHECK(http_request(s.api_port(), "POST", "/v1/session/code", "{}").status == 401);
    const auto json_out = s.cli({"open", "--json"});
    CHECK(json_out.exit_code == 0);
    CHECK(json::parse(json_out.out).at("expires_in") == 60);
}

TEST_CASE("session: a restart or a new API token on SIGHUP ends every session") {
    stack s("session-sighup");
    s.start_serve();
    const auto page = sign_in(s, token_body(s.api_token()));
    REQUIRE(page.answer.status == 200);
    REQUIRE(as_page(s, "GET", "/v1/jobs", page, "").status == 200);

    SUBCASE("SIGHUP with the same token keeps sessions") {
        s.serve().signal(SIGHUP);
        REQUIRE_MESSAGE(
            wait_until([&] { return s.serve_logs().find("received SIGHUP") != std::string::npos; },
                       10s),
            s.logs());
        CHECK(as_page(s, "GET", "/v1/jobs", page, "").status == 200);
    }
    SUBCASE("SIGHUP with a new token ends them, and the new token signs in") {
        const std::string old_token = s.api_token();
        const std::string fresh(64, '7');
        s.ws().write("var/api-token", fresh + "\n");
        s.serve().signal(SIGHUP);
        REQUIRE_MESSAGE(
            wait_until(
                [&] { return s.serve_logs().find("page sessions ended") != std::string::npos; },
                10s),
            s.logs());
        CHECK(s.serve_logs().find(fresh) == std::string::npos);
        CHECK(as_page(s, "GET", "/v1/jobs", page, "").status == 401);
        CHECK(http_request(s.api_port(), "GET", "/v1/jobs", "", "",
                           "Authorization: Bearer " + old_token + "\r\n")
                  .status == 401);
        CHECK(s.api_request("GET", "/v1/jobs", "", "").status == 200);
        CHECK(sign_in(s, token_body(old_token)).answer.status == 401);
        CHECK(sign_in(s, token_body(fresh)).answer.status == 200);
    }
    SUBCASE("a restart ends them") {
        s.serve().signal(SIGTERM);
        REQUIRE(s.serve().wait(10s) == 0);
        s.start_serve();
        CHECK(as_page(s, "GET", "/v1/jobs", page, "").status == 401);
    }
}

TEST_CASE("session: a fixed path spelt with %XX is no route, so no access check is passed by "
          "it") {
    stack s("session-encoded");
    s.start_simulator();
    s.start_serve();
    const auto page = sign_in(s, token_body(s.api_token()));
    REQUIRE(page.answer.status == 200);

    // A cookie may not mint codes under any spelling of /v1/session/code.
    CHECK(as_page(s, "POST", "/v1/session/code", page, page.csrf, "{}").status == 401);
    const auto encoded = as_page(s, "POST", "/v1/session/%63ode", page, page.csrf, "{}");
    CHECK_MESSAGE(encoded.status == 404, encoded.body);
    CHECK(encoded.body.find("\"code\"") == std::string::npos);
    // The query check reads the same path as the router.
    CHECK(s.api_request("GET", "/v1/events?bogus=1", "", "").status == 400);
    CHECK(s.api_request("GET", "/v1/%65vents?bogus=1", "", "").status == 404);
    CHECK(s.api_request("GET", "/v1/%6Aobs", "", "").status == 404);
    // A wrong method on the session routes is 405 with Allow.
    const auto put = s.api_request("PUT", "/v1/session", "", "");
    CHECK(put.status == 405);
    CHECK(header_value(put, "Allow") == "POST, GET, DELETE");
    const auto get_code = s.api_request("GET", "/v1/session/code", "", "");
    CHECK(get_code.status == 405);
    CHECK(header_value(get_code, "Allow") == "POST");

    // A {key} segment is still decoded: a job id with an encoded letter finds the job.
    const auto made = s.api_request("POST", "/v1/jobs", job_body);
    REQUIRE_MESSAGE(made.status == 201, made.body);
    const std::string id = str(json::parse(made.body), "id");
    REQUIRE(id.size() > 1);
    char hex[4];
    std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(id[0]));
    const std::string spelt = std::string(hex) + id.substr(1);
    const auto found = s.api_request("GET", "/v1/jobs/" + spelt, "", "");
    CHECK_MESSAGE(found.status == 200, found.body);
    CHECK(str(json::parse(found.body), "id") == id);
    CHECK(s.api_request("GET", "/v1/jobs/" + spelt + "/events", "", "").status == 200);
}

namespace {

// Reads `r` until the server closes it or `timeout` passes; the job events
// seen on the way.
std::size_t job_events_until_closed(sse_reader& r, std::chrono::milliseconds timeout) {
    std::size_t jobs = 0;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!r.closed() && std::chrono::steady_clock::now() < deadline)
        if (auto e = r.next(100ms); e && e->event == "job")
            ++jobs;
    return jobs;
}

} // namespace

TEST_CASE("session: an event stream ends when the session or token that opened it ends") {
    stack s("session-stream");
    s.start_simulator();
    s.start_serve();
    const auto page = sign_in(s, token_body(s.api_token()));
    REQUIRE(page.answer.status == 200);
    const std::string cookie = "Cookie: " + page.cookie + "\r\n";

    SUBCASE("signing out ends the page's stream before any later event") {
        sse_reader stream(s.api_port(), "/v1/events", cookie);
        REQUIRE(stream.status() == 200);
        REQUIRE(as_page(s, "DELETE", "/v1/session", page, page.csrf).status == 200);
        REQUIRE(s.api_request("POST", "/v1/jobs", job_body).status == 201);
        CHECK(job_events_until_closed(stream, 5s) == 0);
        CHECK(stream.closed());
        // A bearer stream opened alongside is not touched by a sign-out.
        sse_reader cli(s.api_port(), "/v1/events",
                       "Authorization: Bearer " + s.api_token() + "\r\n");
        REQUIRE(cli.status() == 200);
        REQUIRE(s.api_request("POST", "/v1/jobs", job_body).status == 201);
        CHECK(cli.next_job(10s).has_value());
    }
    SUBCASE("a new token on SIGHUP ends cookie and bearer streams alike") {
        sse_reader by_cookie(s.api_port(), "/v1/events", cookie);
        sse_reader by_token(s.api_port(), "/v1/events",
                            "Authorization: Bearer " + s.api_token() + "\r\n");
        REQUIRE(by_cookie.status() == 200);
        REQUIRE(by_token.status() == 200);
        s.ws().write("var/api-token", std::string(64, '7') + "\n");
        s.serve().signal(SIGHUP);
        CHECK(job_events_until_closed(by_cookie, 5s) == 0);
        CHECK(by_cookie.closed());
        CHECK(job_events_until_closed(by_token, 5s) == 0);
        CHECK(by_token.closed());
        CHECK(s.serve().running());
    }
}
