#pragma once

// Who may use the local API, which spends the user's MusicGPT credits: the
// bearer token every request but GET /healthz carries, and the Host, Origin
// and Content-Type checks that keep a web page open in a browser on this
// machine from reaching it (DNS rebinding, cross-site forms). Pure
// functions of header values; no Beast here.

#include "common/error.hpp"

#include <filesystem>
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

// The parts of a request the access checks read; an absent header is
// nullopt.
struct request_facts {
    std::string_view method; // "GET", "POST", ...
    std::string_view path;   // the target without its query
    std::optional<std::string_view> host;
    std::optional<std::string_view> origin;
    std::optional<std::string_view> authorization;
    std::optional<std::string_view> content_type;
};

class api_access {
public:
    // `token_file` only names where the token lives, in refusals.
    api_access(std::string_view token, std::vector<std::string> allowed_hosts,
               std::filesystem::path token_file);

    // Host (misdirected), then Origin (cross_origin), then the token
    // (unauthorized; not asked of GET /healthz), then a POST's Content-Type
    // (unsupported_media_type). The message says what to send instead.
    result<void> check(const request_facts& r) const;

    // Compares digests of both sides, so the time taken depends neither on
    // the token nor on its length.
    bool token_matches(std::string_view presented) const;

private:
    result<void> check_token(const request_facts& r) const;

    std::string token_digest_;
    std::vector<std::string> allowed_hosts_;
    std::filesystem::path token_file_;
};

} // namespace stemd::server
