#pragma once

// Reading a whole number from text that people or clients wrote (query
// parameters, cursors, headers): plain decimal digits only, no sign, no
// space, no leading '+', and the value must fit T.

#include <charconv>
#include <optional>
#include <string_view>

namespace stemd {

template <class T> std::optional<T> whole_number(std::string_view text) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos)
        return std::nullopt;
    T value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

} // namespace stemd
