#pragma once

// Who may use the local API, which spends the user's MusicGPT credits: the
// bearer token, or the session cookie of the page signed in with it (and
// then the session's CSRF token on anything but GET/HEAD), and the Host,
// Origin and Content-Type checks that keep a web page open in a browser on
// this machine from reaching it (DNS rebinding, cross-site forms). Pure
// functions of header values; no Beast here.

#include "common/error.hpp"
#include "common/time.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace stemd::server {

// The token of an "Authorization: Bearer <token>" value (scheme in any
// case); nullopt for another scheme or an empty token.
std::optional<std::string_view> bearer_token(std::string_view authorization);

// The host of a Host value without its port, lowercase: "[::1]:8081" ->
// "[::1]", "LocalHost" -> "localhost". "" when it is not host[:port].
std::string host_name(std::string_view host_header);

// A Host value naming a loopback host (config::is_loopback_address) or one of `allowed` (lowercase
// names, as api.allowed_hosts holds them), with or without a port.
bool host_allowed(std::string_view host_header, std::span<const std::string> allowed);

// An Origin is this listener's own only when it is http://<Host as sent>.
bool same_origin(std::string_view origin, std::string_view host_header);

// The media type of a Content-Type value, lowercase, without parameters:
// "Application/JSON; charset=utf-8" -> "application/json".
std::string media_type(std::string_view content_type);

// The media types a POST to `path` may carry.
std::span<const std::string_view> accepted_media_types(std::string_view path);

// The name of the page's session cookie.
inline constexpr std::string_view session_cookie = "stemd_session";

// The value of the cookie `name` in a Cookie header value ("a=1; b=2"),
// its surrounding double quotes dropped; nullopt when it is not there. Names
// match exactly (RFC 6265 names are case-sensitive).
std::optional<std::string_view> cookie_value(std::string_view cookie_header, std::string_view name);

// The requests that need neither the token nor a session: GET /healthz, GET
// and HEAD of the page (/ and /assets/*, which hold no data), and POST
// /v1/session (signing in; it carries the token or a code in its body).
bool needs_no_token(std::string_view method, std::string_view path);

// The largest body POST /v1/session takes: it is read before anyone is
// known, so it is kept small.
inline constexpr std::size_t max_sign_in_body = 4096;

class session_book;

// The parts of a request the access checks read; an absent header is
// nullopt.
struct request_facts {
    std::string_view method; // "GET", "POST", ...
    std::string_view path;   // the target without its query
    std::optional<std::string_view> host;
    std::optional<std::string_view> origin;
    std::optional<std::string_view> authorization;
    std::optional<std::string_view> content_type;
    std::optional<std::string_view> cookie; // the Cookie header
    std::optional<std::string_view> csrf;   // X-CSRF-Token
    std::optional<std::string_view> content_length;
};

class api_access {
public:
    // `token_file` only names where the token lives, in refusals. Without
    // `sessions` no session cookie is accepted; it must outlive this.
    api_access(std::string_view token, std::vector<std::string> allowed_hosts,
               std::filesystem::path token_file, session_book* sessions = nullptr);

    // Host (misdirected), then Origin (cross_origin), then who is asking
    // (not asked of needs_no_token): a bearer token when Authorization is
    // sent (unauthorized when wrong), else a live session cookie
    // (unauthorized when unknown or ended; not taken by POST
    // /v1/session/code, which hands out sign-ins) with, on anything but
    // GET/HEAD, the session's X-CSRF-Token (csrf_mismatch); then the size
    // of a sign-in body (body_too_large) and a POST's Content-Type
    // (unsupported_media_type). The message says what to send instead.
    result<void> check(const request_facts& r, millis now) const;
    result<void> check(const request_facts& r) const { return check(r, now_millis()); }

    // Compares digests of both sides, so the time taken depends neither on
    // the token nor on its length.
    bool token_matches(std::string_view presented) const;
    // A new token (re-read on SIGHUP); the caller ends the sessions.
    void set_token(std::string_view token);
    // For a request check() let in: whether what let it in still holds at
    // `now` (its session is live; or the token is the one in use then), for
    // an answer that outlives the request (GET /v1/events). Must not outlive
    // this object.
    std::function<bool(millis now)> credential_watch(const request_facts& r) const;
    session_book* sessions() const { return sessions_; }

private:
    result<void> check_token(const request_facts& r) const;
    result<void> check_session(const request_facts& r, std::string_view id, millis now) const;
    // The session cookie's value when it is what identifies `r`.
    std::optional<std::string_view> session_id_of(const request_facts& r) const;

    std::string token_digest_;
    std::uint64_t token_generation_ = 0; // counts set_token calls
    std::vector<std::string> allowed_hosts_;
    std::filesystem::path token_file_;
    session_book* sessions_;
};

} // namespace stemd::server
