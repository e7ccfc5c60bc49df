#include "server/session_route.hpp"

#include "common/log.hpp"
#include "server/api_access.hpp"
#include "server/reply.hpp"
#include "server/session_book.hpp"

#include <boost/json/parse.hpp>

#include <string>

namespace stemd::server {

namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

// No Secure attribute: the API is plain HTTP on loopback (api.listen), so a
// Secure cookie would never be sent back. HttpOnly keeps it from the page's
// scripts, SameSite=Strict from requests other sites start.
std::string session_cookie_header(std::string_view id) {
    return std::string(session_cookie) + "=" + std::string(id) +
           "; HttpOnly; SameSite=Strict; Path=/";
}

std::string cleared_cookie_header() {
    return std::string(session_cookie) + "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0";
}

// A session answer must not be kept by a cache: it carries the CSRF token.
listener::response private_json(unsigned status, const json::value& body) {
    auto r = json_response(status, body);
    r.set(http::field::cache_control, "no-store");
    return r;
}

std::optional<std::string_view> cookie_of(const listener::request& req) {
    const auto found = req.find(http::field::cookie);
    if (found == req.end())
        return std::nullopt;
    return cookie_value(found->value(), session_cookie);
}

// What POST /v1/session carries: exactly one of "token" and "code", a string.
struct sign_in {
    bool by_code = false;
    std::string secret;
};

std::optional<sign_in> read_sign_in(std::string_view body) {
    boost::system::error_code ec;
    const auto v = json::parse(body, ec);
    if (ec || !v.is_object())
        return std::nullopt;
    const auto& o = v.get_object();
    const auto* token = o.if_contains("token");
    const auto* code = o.if_contains("code");
    if (o.size() != 1 || (token && !token->is_string()) || (code && !code->is_string()) ||
        (!token && !code))
        return std::nullopt;
    if (token)
        return sign_in{false, std::string(token->get_string())};
    return sign_in{true, std::string(code->get_string())};
}

listener::response throttled_answer(millis wait) {
    const auto seconds = (wait + 999) / 1000;
    auto r = error_response(429, "too many failed sign-ins in the last minute; try again in " +
                                     std::to_string(seconds) + " s");
    r.set(http::field::retry_after, std::to_string(seconds));
    return r;
}

listener::response open_session(const listener::request& req, const api_access& access,
                                session_book& sessions, millis now) {
    if (auto wait = sessions.throttled(now))
        return throttled_answer(*wait);
    const auto asked = read_sign_in(req.body());
    if (!asked)
        return error_response(400, R"(POST /v1/session takes {"token":"<the API token>"} or )"
                                   R"({"code":"<a code from stemd open>"})");
    const bool good = asked->by_code ? sessions.redeem_code(asked->secret, now)
                                     : access.token_matches(asked->secret);
    if (!good) {
        sessions.note_failure(now);
        log_warning("", std::string("refused a sign-in to the API with a wrong ") +
                            (asked->by_code ? "or spent one-time code" : "token"));
        return error_response(401, asked->by_code
                                       ? "the code is unknown, spent or older than 60 s; run "
                                         "stemd open again for a new one"
                                       : "the token is not this stemd's; it is in the file "
                                         "api.token_file names on the stemd host");
    }
    // A sign-in replaces the session the browser had, if any.
    if (auto old = cookie_of(req))
        sessions.close(*old);
    const auto ticket = sessions.open(now);
    log_info("", std::string("a page signed in to the API with ") +
                     (asked->by_code ? "a one-time code" : "the token") +
                     "; sessions open: " + std::to_string(sessions.sessions()));
    auto r = private_json(200, json::object{{"ok", true}, {"csrf", ticket.csrf}});
    r.set(http::field::set_cookie, session_cookie_header(ticket.id));
    return r;
}

listener::response show_session(const listener::request& req, session_book& sessions, millis now) {
    const auto id = cookie_of(req);
    const auto csrf = id ? sessions.csrf_of(*id, now) : std::nullopt;
    if (!csrf)
        return error_response(401, "no session: sign in with POST /v1/session");
    return private_json(200, json::object{{"ok", true}, {"csrf", *csrf}});
}

listener::response end_session(const listener::request& req, session_book& sessions) {
    if (auto id = cookie_of(req); id && sessions.close(*id))
        log_info("", "a page signed out of the API");
    auto r = private_json(200, json::object{{"ok", true}});
    r.set(http::field::set_cookie, cleared_cookie_header());
    return r;
}

} // namespace

bool is_session_route(std::string_view path) {
    return path == "/v1/session" || path == "/v1/session/code";
}

listener::response handle_session(const listener::request& req, std::string_view path,
                                  const api_access& access, session_book& sessions, millis now) {
    const auto method = req.method();
    if (path == "/v1/session/code") {
        if (method != http::verb::post)
            return method_not_allowed({"POST"}, "/v1/session/code");
        const auto code = sessions.issue_code(now);
        log_info("", "issued a one-time sign-in code for the page");
        return private_json(200, json::object{{"ok", true},
                                              {"code", code},
                                              {"expires_in", sessions.code_lifetime() / 1000}});
    }
    if (method == http::verb::post)
        return open_session(req, access, sessions, now);
    if (method == http::verb::get)
        return show_session(req, sessions, now);
    if (method == http::verb::delete_)
        return end_session(req, sessions);
    return method_not_allowed({"POST", "GET", "DELETE"}, "/v1/session");
}

} // namespace stemd::server
