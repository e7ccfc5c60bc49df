#pragma once

#include <boost/system/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace stemd::client {

// An absolute http or https URL split the way a request needs it.
struct http_url {
    bool https = true;
    std::string host;        // without brackets for IPv6 literals
    std::uint16_t port = 0;  // explicit or the scheme's default
    std::string target;      // path and query, at least "/"

    // "host" or "host:port" for the Host header (brackets for IPv6).
    std::string host_header() const;
    // The URL again, in full (carries the query: never log it).
    std::string to_string() const;
    // The URL without query or fragment: safe to log.
    std::string redacted() const;
};

// Parses an absolute http(s) URL; anything else is error::bad_url.
boost::system::result<http_url> parse_http_url(std::string_view text);

// Resolves a Location header against the URL it came from (absolute,
// scheme-relative, absolute-path or relative forms).
boost::system::result<http_url> resolve_location(const http_url& base, std::string_view location);

// Any URL text with its query string and fragment removed, for logs and
// error messages; an unparsable text becomes "(invalid URL)".
std::string redact(std::string_view url);

} // namespace stemd::client
