#pragma once

// Network addresses in the configuration: listen endpoints ("host:port") and
// the http(s) base URLs stemd talks to or hands out.

#include "common/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stemd::config {

// "host:port" as written in the file; host may be a name, an IPv4 address or
// a bracketed IPv6 address ("[::1]:8080").
struct endpoint {
    std::string host;
    std::uint16_t port = 0;

    std::string to_string() const;
};

// localhost, an address of 127.0.0.0/8, or ::1 (bare or in brackets), in
// any case: the hosts only this machine reaches.
bool is_loopback_address(std::string_view host);

// Parses "host:port" / "[v6]:port". On failure (config::error::bad_value) the
// message quotes the text and says what is wrong:
// "\"localhost\" is not a valid endpoint: the port is missing (...)".
result<endpoint> parse_endpoint(std::string_view text);

// Checks an http(s) base URL and drops its trailing slashes. Returns, when it
// refuses the URL, the rest of the sentence that follows "table.key = value".
std::optional<std::string> check_http_url(std::string& value);

// check_http_url, except that an empty value (the key left unset) is fine.
std::optional<std::string> check_optional_http_url(std::string& value);

} // namespace stemd::config
