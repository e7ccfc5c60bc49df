#pragma once

// The web page's files (server/page/), built into the binary: each with the
// path it is served at, its Content-Type and a strong ETag, all fixed at
// build time (server/page/embed.cmake writes the table). No Beast here.

#include <span>
#include <string_view>

namespace stemd::server {

struct page_asset {
    std::string_view path;         // "/" for index.html, else "/assets/<name>"
    std::string_view content_type; // with charset for text
    std::string_view etag;         // quoted, as sent: "\"<hex>\""
    std::string_view bytes;
};

// Every asset, in the order server/CMakeLists.txt lists them (generated).
std::span<const page_asset> page_assets();

// The asset served at `path`, or null.
const page_asset* find_page_asset(std::string_view path);

// The headers every page answer carries: what the page may load (itself
// only), no framing, no sniffing, no referrer.
inline constexpr std::string_view page_security_policy =
    "default-src 'self'; script-src 'self'; style-src 'self'; media-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'";

} // namespace stemd::server
