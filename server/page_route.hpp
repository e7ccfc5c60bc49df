#pragma once

// GET/HEAD / and /assets/* on the API listener: the page's built-in files
// (server/page_assets.hpp) with ETag/304 and the page's security headers.
// They hold no data, so they need no token (api_access). Included only by
// .cpp files.

#include "listener/http_server.hpp"

#include <string>
#include <string_view>

namespace stemd::server {

// Whether `path` is the page's ("/" or under "/assets/").
bool is_page_path(std::string_view path);

// The page's Content-Security-Policy: page_security_policy, and when
// `media_origin` is an origin ("scheme://host[:port]") also that origin in
// media-src, so the page's <audio> may follow the file route's redirect to
// a stem kept in S3 there. connect-src stays 'self': the page fetches only
// the API. "" (or a text that is not an origin): page_security_policy.
std::string page_policy(std::string_view media_origin);

// The asset at `path`: 200 (no body for HEAD), 304 when If-None-Match holds
// its ETag, 404 for an unknown asset, 405 for a method other than GET/HEAD.
// `media_origin`: as for page_policy ("" when stems are not kept in S3).
listener::response page_response(const listener::request& req, std::string_view path,
                                 std::string_view media_origin = {});

} // namespace stemd::server
