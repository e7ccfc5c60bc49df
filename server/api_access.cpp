#include "server/api_access.hpp"

#include "common/crypto.hpp"
#include "common/text.hpp"
#include "config/endpoint.hpp"
#include "server/error.hpp"
#include "server/session_book.hpp"

#include <algorithm>

namespace stemd::server {

namespace {

bool all_digits(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// Shown in a refusal: a peer's header, kept short.
std::string quoted(std::string_view value) {
    constexpr std::size_t shown = 100;
    return "\"" + escape_control(value.substr(0, shown)) + (value.size() > shown ? "..." : "") +
           "\"";
}

// Anyone may post a sign-in, so its body is held to a few KiB, known up
// front: a chunked body of unknown length is refused too.
result<void> check_sign_in_length(std::optional<std::string_view> content_length) {
    const auto length = content_length.value_or("");
    if (all_digits(length) && length.size() <= 6 &&
        std::stoul(std::string(length)) <= max_sign_in_body)
        return {};
    return make_error(error::body_too_large, "POST /v1/session takes a JSON body of at most " +
                                                 std::to_string(max_sign_in_body) +
                                                 " bytes, sent with Content-Length");
}

} // namespace

std::optional<std::string_view> bearer_token(std::string_view authorization) {
    authorization = trim(authorization);
    constexpr std::string_view scheme = "bearer";
    if (authorization.size() <= scheme.size() ||
        !iequals(authorization.substr(0, scheme.size()), scheme) ||
        (authorization[scheme.size()] != ' ' && authorization[scheme.size()] != '\t'))
        return std::nullopt;
    const auto token = trim(authorization.substr(scheme.size()));
    if (token.empty())
        return std::nullopt;
    return token;
}

std::string host_name(std::string_view host_header) {
    const std::string host = lowercase(trim(host_header));
    std::string_view name = host;
    std::string_view port;
    if (name.starts_with('[')) {
        const auto close = name.find(']');
        if (close == std::string_view::npos)
            return {};
        port = name.substr(close + 1);
        name = name.substr(0, close + 1);
        if (!port.empty() && !port.starts_with(':'))
            return {};
    } else if (const auto colon = name.find(':'); colon != std::string_view::npos) {
        port = name.substr(colon);
        name = name.substr(0, colon);
    }
    if (!port.empty() && !all_digits(port.substr(1)))
        return {};
    return std::string(name);
}

bool host_allowed(std::string_view host_header, std::span<const std::string> allowed) {
    const std::string name = host_name(host_header);
    if (name.empty())
        return false;
    return config::is_loopback_address(name) ||
           std::find(allowed.begin(), allowed.end(), name) != allowed.end();
}

bool same_origin(std::string_view origin, std::string_view host_header) {
    constexpr std::string_view scheme = "http://";
    origin = trim(origin);
    return origin.size() > scheme.size() && iequals(origin.substr(0, scheme.size()), scheme) &&
           iequals(origin.substr(scheme.size()), trim(host_header));
}

std::string media_type(std::string_view content_type) {
    return lowercase(trim(content_type.substr(0, content_type.find(';'))));
}

std::span<const std::string_view> accepted_media_types(std::string_view path) {
    // One row per route that takes a body; a route accepts another type by
    // one more entry in its row.
    static constexpr std::string_view json_only[] = {"application/json"};
    static constexpr std::string_view job_submission[] = {"application/json",
                                                          "multipart/form-data"};
    if (path == "/v1/jobs")
        return job_submission;
    return json_only;
}

std::optional<std::string_view> cookie_value(std::string_view cookie_header,
                                             std::string_view name) {
    while (!cookie_header.empty()) {
        const auto end = cookie_header.find(';');
        std::string_view pair = trim(cookie_header.substr(0, end));
        cookie_header =
            end == std::string_view::npos ? std::string_view() : cookie_header.substr(end + 1);
        const auto eq = pair.find('=');
        if (eq == std::string_view::npos || trim(pair.substr(0, eq)) != name)
            continue;
        std::string_view value = trim(pair.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            value = value.substr(1, value.size() - 2);
        return value;
    }
    return std::nullopt;
}

bool needs_no_token(std::string_view method, std::string_view path) {
    const bool read = method == "GET" || method == "HEAD";
    return (method == "GET" && path == "/healthz") ||
           (read && (path == "/" || path.starts_with("/assets/"))) ||
           (method == "POST" && path == "/v1/session");
}

api_access::api_access(std::string_view token, std::vector<std::string> allowed_hosts,
                       std::filesystem::path token_file, session_book* sessions)
    : token_digest_(sha256_hex(token)), allowed_hosts_(std::move(allowed_hosts)),
      token_file_(std::move(token_file)), sessions_(sessions) {}

bool api_access::token_matches(std::string_view presented) const {
    return constant_time_equal(sha256_hex(presented), token_digest_);
}

void api_access::set_token(std::string_view token) {
    token_digest_ = sha256_hex(token);
    ++token_generation_;
}

std::optional<std::string_view> api_access::session_id_of(const request_facts& r) const {
    // A bearer token, when sent, decides alone; a cookie is ambient (the
    // browser adds it), so it carries the CSRF rule with it.
    if (!r.cookie || r.authorization || !sessions_)
        return std::nullopt;
    return cookie_value(*r.cookie, session_cookie);
}

std::function<bool(millis)> api_access::credential_watch(const request_facts& r) const {
    if (auto id = session_id_of(r))
        return [sessions = sessions_, id = std::string(*id)](millis now) {
            return sessions->alive(id, now);
        };
    return [this, generation = token_generation_](millis) {
        return token_generation_ == generation;
    };
}

result<void> api_access::check_session(const request_facts& r, std::string_view id,
                                       millis now) const {
    if (r.path == "/v1/session/code")
        return make_error(error::unauthorized,
                          "POST /v1/session/code takes the bearer token only, not a session "
                          "cookie; run stemd open on the stemd host");
    const auto csrf = sessions_->csrf_of(id, now);
    // Signing out of an ended session changes nothing, and its answer
    // clears the stale cookie; a live one still needs its CSRF token.
    if (!csrf && r.method == "DELETE" && r.path == "/v1/session")
        return {};
    if (!csrf)
        return make_error(error::unauthorized,
                          "the session of this stemd_session cookie has ended or is unknown "
                          "(stemd restarted, signed out, expired or its token changed); sign in "
                          "again with POST /v1/session");
    if (r.method == "GET" || r.method == "HEAD")
        return {};
    if (!r.csrf)
        return make_error(error::csrf_mismatch, escape_control(r.method) +
                                                    " with a session cookie needs the header "
                                                    "X-CSRF-Token: <csrf of POST or GET "
                                                    "/v1/session>");
    if (!constant_time_equal(sha256_hex(trim(*r.csrf)), sha256_hex(*csrf)))
        return make_error(error::csrf_mismatch,
                          "X-CSRF-Token is not this session's; send the csrf that GET "
                          "/v1/session answers");
    return {};
}

result<void> api_access::check_token(const request_facts& r) const {
    const std::string fix = "; send \"Authorization: Bearer <token>\" with the token in " +
                            token_file_.string() +
                            " on the stemd host (the stemd CLI reads it itself)";
    if (!r.authorization)
        return make_error(error::unauthorized,
                          "this API needs a token (or the page's session cookie)" + fix);
    const auto token = bearer_token(*r.authorization);
    if (!token)
        return make_error(error::unauthorized, "Authorization is not a bearer token" + fix);
    if (!token_matches(*token))
        return make_error(error::unauthorized, "the bearer token is not this stemd's" + fix);
    return {};
}

result<void> api_access::check(const request_facts& r, millis now) const {
    const std::string_view host = r.host.value_or("");
    if (!host_allowed(host, allowed_hosts_))
        return make_error(error::misdirected,
                          "Host " + quoted(host) +
                              " is not this API's: use a loopback address (localhost, "
                              "127.0.0.1, [::1]) or add the name to api.allowed_hosts");
    if (r.origin && !same_origin(*r.origin, host))
        return make_error(error::cross_origin, "requests from web pages are refused: Origin " +
                                                   quoted(*r.origin) + " is not http://" +
                                                   escape_control(host));
    if (!needs_no_token(r.method, r.path)) {
        const auto id = session_id_of(r);
        if (auto who = id ? check_session(r, *id, now) : check_token(r); !who)
            return who;
    }
    if (r.method == "POST" && r.path == "/v1/session")
        if (auto small = check_sign_in_length(r.content_length); !small)
            return small;
    if (r.method != "POST")
        return {};
    const auto accepted = accepted_media_types(r.path);
    const std::string type = media_type(r.content_type.value_or(""));
    if (std::find(accepted.begin(), accepted.end(), type) != accepted.end())
        return {};
    std::vector<std::string> names(accepted.begin(), accepted.end());
    return make_error(error::unsupported_media_type,
                      "POST " + escape_control(r.path) + " takes Content-Type " +
                          join(names, " or ") + ", not " +
                          (r.content_type ? quoted(*r.content_type) : std::string("none")));
}

} // namespace stemd::server
