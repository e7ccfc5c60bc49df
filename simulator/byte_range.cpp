#include "simulator/byte_range.hpp"

#include "common/text.hpp"
#include "simulator/decimal.hpp"

#include <algorithm>
#include <optional>

namespace stemd::simulator {

byte_range interpret_range(std::string_view header, std::uint64_t size) {
    header = trim(header);
    constexpr std::string_view unit = "bytes=";
    if (header.size() < unit.size() || !iequals(header.substr(0, unit.size()), unit)) {
        return {};
    }
    const std::string_view spec = trim(header.substr(unit.size()));
    const auto dash = spec.find('-');
    if (spec.find(',') != std::string_view::npos || dash == std::string_view::npos) {
        return {};
    }
    const std::string_view first_text = trim(spec.substr(0, dash));
    const std::string_view last_text = trim(spec.substr(dash + 1));
    if (first_text.empty()) {
        const auto suffix = parse_decimal(last_text);
        if (!suffix) {
            return {};
        }
        if (*suffix == 0 || size == 0) {
            return {byte_range::kind::unsatisfiable};
        }
        return {byte_range::kind::part, size - std::min(*suffix, size), size - 1};
    }
    const auto first = parse_decimal(first_text);
    const auto last =
        last_text.empty() ? std::optional<std::uint64_t>{size - 1} : parse_decimal(last_text);
    if (!first || !last || (!last_text.empty() && *last < *first)) {
        return {};
    }
    if (*first >= size) {
        return {byte_range::kind::unsatisfiable};
    }
    return {byte_range::kind::part, *first, std::min(*last, size - 1)};
}

} // namespace stemd::simulator
