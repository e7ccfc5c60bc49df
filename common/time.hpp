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

// The instant an RFC 3339 date-time names ("2026-11-25T12:00:00Z",
// "2026-11-25T13:00:00.5+01:00"; 'T' or ' ', 'Z' or an offset, up to
// millisecond precision kept); nullopt when `text` is not one.
std::optional<millis> parse_rfc3339(std::string_view text);

// The IMF-fixdate of HTTP's Date header, "Tue, 01 Dec 2026 15:52:21 GMT"
// (whole seconds, the milliseconds dropped).
std::string http_date(millis t);

// Reads an IMF-fixdate back; nullopt for anything else (the obsolete RFC 850
// and asctime forms included: no current server sends them).
std::optional<millis> parse_http_date(std::string_view text);

} // namespace stemd
