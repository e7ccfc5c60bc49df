#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stemd {

// Milliseconds since the Unix epoch: every time stemd records or shows.
using millis = std::int64_t;

millis now_millis() noexcept;

// "2026-11-25T12:00:00.000Z" (UTC, millisecond precision).
std::string rfc3339(millis t);

// The IMF-fixdate of HTTP's Date header, "Tue, 01 Dec 2026 15:52:21 GMT"
// (whole seconds, the milliseconds dropped).
std::string http_date(millis t);

// Reads an IMF-fixdate back; nullopt for anything else (the obsolete RFC 850
// and asctime forms included: no current server sends them).
std::optional<millis> parse_http_date(std::string_view text);

} // namespace stemd
