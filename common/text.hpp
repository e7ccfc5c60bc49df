#pragma once

// Small text helpers shared by every library (ASCII only: they serve
// protocol tokens, header names and configuration values, not prose).

#include <string>
#include <string_view>
#include <vector>

namespace stemd {

// `s` without leading and trailing spaces and tabs (or the characters in
// `blanks`, e.g. " \t\r\n" for a line read from a file).
std::string_view trim(std::string_view s, std::string_view blanks = " \t") noexcept;

// ASCII case-insensitive equality, for header names and protocol tokens.
bool iequals(std::string_view a, std::string_view b) noexcept;

std::string lowercase(std::string_view s);

// RFC 3986 percent-encoding of everything but the unreserved characters,
// for a query parameter's value or one path segment (a '/' is encoded).
std::string percent_encode(std::string_view s);

std::string join(const std::vector<std::string>& items, std::string_view separator);

// A value fit for one log line: control characters (CR and LF among them,
// which would forge a second event) become "\xNN".
std::string escape_control(std::string_view s);

} // namespace stemd
