#pragma once

#include <cstdint>
#include <string>

namespace stemd {

// Milliseconds since the Unix epoch: every time stemd records or shows.
using millis = std::int64_t;

millis now_millis() noexcept;

// "2026-11-25T12:00:00.000Z" (UTC, millisecond precision).
std::string rfc3339(millis t);

} // namespace stemd
