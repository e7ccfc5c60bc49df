#pragma once

// GET/HEAD / and /assets/* on the API listener: the page's built-in files
// (server/page_assets.hpp) with ETag/304 and the page's security headers.
// They hold no data, so they need no token (api_access). Included only by
// .cpp files.

#include "listener/http_server.hpp"

#include <string_view>

namespace stemd::server {

// Whether `path` is the page's ("/" or under "/assets/").
bool is_page_path(std::string_view path);

// The asset at `path`: 200 (no body for HEAD), 304 when If-None-Match holds
// its ETag, 404 for an unknown asset, 405 for a method other than GET/HEAD.
listener::response page_response(const listener::request& req, std::string_view path);

} // namespace stemd::server
