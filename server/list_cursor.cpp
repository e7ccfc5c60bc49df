#include "server/list_cursor.hpp"

#include "common/whole_number.hpp"

namespace stemd::server {

namespace {

// "<created_at>.<rowid>": a version letter first, so that a later format
// can tell its cursors from these.
constexpr std::string_view prefix = "c1.";

// One spelling per cursor: no leading zeros.
template <class T> std::optional<T> cursor_number(std::string_view text) {
    if (text.size() > 1 && text.front() == '0')
        return std::nullopt;
    return whole_number<T>(text);
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
    const auto at = cursor_number<storage::millis>(text.substr(0, dot));
    const auto rowid = cursor_number<std::int64_t>(text.substr(dot + 1));
    if (!at || !rowid)
        return std::nullopt;
    return storage::job_cursor{*at, *rowid};
}

} // namespace stemd::server
