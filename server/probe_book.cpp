#include "server/probe_book.hpp"

#include "common/crypto.hpp"

#include <algorithm>

namespace stemd::server {

namespace {
constexpr std::string_view probe_prefix = "/webhook/probe/";
}

void probe_book::expire(millis now) {
    std::erase_if(entries_, [now](const entry& e) { return now - e.issued >= lifetime; });
}

std::string probe_book::issue(millis now) {
    expire(now);
    if (entries_.size() >= capacity)
        return {};
    entries_.push_back({random_token_hex(16), now, false});
    return entries_.back().id;
}

bool probe_book::arrive(std::string_view id, millis now) {
    expire(now);
    auto it = std::find_if(entries_.begin(), entries_.end(),
                           [id](const entry& e) { return constant_time_equal(e.id, id); });
    if (it == entries_.end())
        return false;
    it->arrived = true;
    return true;
}

bool probe_book::settle(std::string_view id) {
    auto it =
        std::find_if(entries_.begin(), entries_.end(), [id](const entry& e) { return e.id == id; });
    if (it == entries_.end())
        return false;
    const bool arrived = it->arrived;
    entries_.erase(it);
    return arrived;
}

std::string probe_path(std::string_view id) {
    return std::string(probe_prefix) + std::string(id);
}

std::string_view probe_id(std::string_view target) {
    target = target.substr(0, target.find('?'));
    if (!target.starts_with(probe_prefix))
        return {};
    target.remove_prefix(probe_prefix.size());
    if (target.empty() || target.find('/') != std::string_view::npos)
        return {};
    return target;
}

} // namespace stemd::server
