#include "server/page_assets.hpp"

#include "common/text.hpp"

namespace stemd::server {

const page_asset* find_page_asset(std::string_view path) {
    for (const auto& a : page_assets())
        if (a.path == path)
            return &a;
    return nullptr;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
    if (trim(if_none_match) == "*")
        return true;
    while (!if_none_match.empty()) {
        const auto comma = if_none_match.find(',');
        auto tag = trim(if_none_match.substr(0, comma));
        if (tag.starts_with("W/"))
            tag.remove_prefix(2);
        if (tag == etag)
            return true;
        if (comma == std::string_view::npos)
            break;
        if_none_match.remove_prefix(comma + 1);
    }
    return false;
}

} // namespace stemd::server
