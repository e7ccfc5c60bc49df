#include "client/content_range.hpp"

#include <charconv>

namespace stemd::client {

namespace {

bool parse_number(std::string_view s, std::uint64_t& out) {
    if (s.empty())
        return false;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size();
}

} // namespace

// "bytes FIRST-LAST/TOTAL" or "bytes FIRST-LAST/*".
std::optional<content_range> parse_content_range(std::string_view v) {
    constexpr std::string_view unit = "bytes ";
    if (v.substr(0, unit.size()) != unit)
        return std::nullopt;
    v.remove_prefix(unit.size());
    const auto dash = v.find('-');
    const auto slash = v.find('/');
    if (dash == std::string_view::npos || slash == std::string_view::npos || dash > slash)
        return std::nullopt;
    content_range r;
    if (!parse_number(v.substr(0, dash), r.first) ||
        !parse_number(v.substr(dash + 1, slash - dash - 1), r.last) || r.first > r.last)
        return std::nullopt;
    const std::string_view total = v.substr(slash + 1);
    if (total != "*") {
        std::uint64_t t = 0;
        if (!parse_number(total, t) || t <= r.last)
            return std::nullopt;
        r.total = t;
    }
    return r;
}

} // namespace stemd::client
