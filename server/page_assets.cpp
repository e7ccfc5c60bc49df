#include "server/page_assets.hpp"

namespace stemd::server {

const page_asset* find_page_asset(std::string_view path) {
    for (const auto& a : page_assets())
        if (a.path == path)
            return &a;
    return nullptr;
}

} // namespace stemd::server
