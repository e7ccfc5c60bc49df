#pragma once

// What every list of links coming out of the webhook parser must satisfy,
// whatever the bytes were: names that are one safe path component, unique
// within their subdir, and URLs that are http(s).

#include "musicgpt/report.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <set>
#include <string>
#include <utility>
#include <vector>

namespace stemd::fuzz {

// safe_name keeps at most 64 bytes; a "-N" suffix for a repeated name
// replaces its tail, so the total stays 64 as well.
inline constexpr std::size_t max_link_name_bytes = 64;

inline bool is_safe_name(const std::string& name) {
    if (name.empty() || name.size() > max_link_name_bytes || name == "." || name == ".." ||
        name.front() == '.')
        return false;
    for (const char c : name) {
        const bool kept = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (!kept)
            return false;
    }
    return true;
}

inline bool is_http_url(const std::string& url) {
    const auto lower_prefix = [&](std::string_view p) {
        if (url.size() < p.size())
            return false;
        for (std::size_t i = 0; i < p.size(); ++i) {
            char c = url[i];
            if (c >= 'A' && c <= 'Z')
                c = static_cast<char>(c - 'A' + 'a');
            if (c != p[i])
                return false;
        }
        return true;
    };
    return lower_prefix("http://") || lower_prefix("https://");
}

inline void check_links(const std::vector<musicgpt::stem_link>& links) {
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& link : links) {
        FUZZ_CHECK(is_safe_name(link.name));
        FUZZ_CHECK(link.subdir.empty() || link.subdir == "wav");
        FUZZ_CHECK(is_http_url(link.url));
        FUZZ_CHECK(seen.emplace(link.subdir, link.name).second);
    }
}

} // namespace stemd::fuzz
