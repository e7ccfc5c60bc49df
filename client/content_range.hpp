#pragma once

// The Content-Range header of a 206 answer.

#include <cstdint>
#include <optional>
#include <string_view>

namespace stemd::client {

struct content_range {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    std::optional<std::uint64_t> total; // absent for "/*"
};

// "bytes FIRST-LAST/TOTAL" or "bytes FIRST-LAST/*"; absent when malformed,
// when FIRST > LAST or when TOTAL does not exceed LAST.
std::optional<content_range> parse_content_range(std::string_view v);

} // namespace stemd::client
