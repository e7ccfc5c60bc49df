#include "simulator/decimal.hpp"

#include <charconv>
#include <system_error>

namespace stemd::simulator {

std::optional<std::uint64_t> parse_decimal(std::string_view text) noexcept {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return v;
}

} // namespace stemd::simulator
