#pragma once

// The one-time probe ids of `stemd doctor`: the daemon issues one, asks its
// own webhook.public_url for /webhook/probe/<id>, and only its webhook
// listener, seeing an id it issued, can say the probe arrived. Ids expire
// after a minute and at most `capacity` are live at once, so a stranger's
// requests cost nothing and are never remembered.

#include "common/time.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace stemd::server {

class probe_book {
public:
    static constexpr std::size_t capacity = 16;
    static constexpr millis lifetime = 60'000;

    // A fresh random id, or "" when `capacity` ids are live already.
    std::string issue(millis now);
    // A probe for `id` came in: true, remembered, when this book issued
    // `id` less than `lifetime` ago; false for anything else.
    bool arrive(std::string_view id, millis now);
    // Whether the probe of `id` arrived; the id is retired either way.
    bool settle(std::string_view id);

    std::size_t live() const { return entries_.size(); }

private:
    struct entry {
        std::string id;
        millis issued = 0;
        bool arrived = false;
    };
    void expire(millis now);
    std::vector<entry> entries_;
};

// The path of the probe of `id` on the webhook listener. Two segments below
// /webhook/, so it cannot be a webhook token (one segment).
std::string probe_path(std::string_view id);
// The id of a probe path, or "" when `target` is no probe path.
std::string_view probe_id(std::string_view target);

} // namespace stemd::server
