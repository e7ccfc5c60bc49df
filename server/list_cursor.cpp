#include "server/list_cursor.hpp"

#include <charconv>

namespace stemd::server {

namespace {

// "<created_at>.<rowid>": a version letter first, so that a later format
// can tell its cursors from these.
constexpr std::string_view prefix = "c1.";

template <class T> std::optional<T> whole_number(std::string_view text) {
    if (text.empty() || text.front() == '-' || text.front() == '+' ||
        (text.size() > 1 && text.front() == '0'))
        return std::nullopt;
    T value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

} // namespace

std::string cursor_text(const storage::job_cursor& c) {
    return std::string(prefix) + std::to_string(c.created_at) + "." + std::to_string(c.rowid);
}

std::optional<storage::job_cursor> parse_cursor(std::string_view text) {
    if (!text.starts_with(prefix))
        return std::nullopt;
    text.remove_prefix(prefix.size());
    const auto dot = text.find('.');
    if (dot == std::string_view::npos)
        return std::nullopt;
    const auto at = whole_number<storage::millis>(text.substr(0, dot));
    const auto rowid = whole_number<std::int64_t>(text.substr(dot + 1));
    if (!at || !rowid)
        return std::nullopt;
    return storage::job_cursor{*at, *rowid};
}

} // namespace stemd::server
