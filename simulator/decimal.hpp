#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace stemd::simulator {

// A whole `text` of decimal digits as a number; nullopt for anything else
// (empty, a sign, spaces, overflow).
std::optional<std::uint64_t> parse_decimal(std::string_view text) noexcept;

} // namespace stemd::simulator
