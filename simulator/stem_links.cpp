#include "simulator/stem_links.hpp"

#include "common/json_text.hpp"
#include "common/time.hpp"
#include "simulator/decimal.hpp"

#include <boost/json/object.hpp>

#include <utility>

namespace stemd::simulator {

namespace json = boost::json;

void stem_links::set_public_url(std::string url) {
    while (url.ends_with('/')) {
        url.pop_back();
    }
    public_url_ = std::move(url);
}

std::string stem_links::url(const task& t, const std::string& stem, std::int64_t expires_ms) const {
    std::string out = public_url_ + "/files/" + t.task_id + "/" + stem + ".wav" +
                      (t.faults.empty() ? "" : "?fault=" + t.faults);
    if (expires_ms > 0) {
        out += (t.faults.empty() ? "?expires=" : "&expires=") + std::to_string(expires_ms);
    }
    return out;
}

std::string stem_links::map(const task& t, std::int64_t expires_ms) const {
    json::object links;
    for (const auto& stem : t.stems) {
        links[stem] = url(t, stem, expires_ms);
    }
    return json_text(links);
}

std::int64_t stem_links::expiry(std::chrono::system_clock::time_point signed_at) const {
    if (ttl_.count() <= 0) {
        return 0;
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               (signed_at + ttl_).time_since_epoch())
        .count();
}

bool stem_links::expired(const boost::urls::url_view& target) const {
    if (ttl_.count() <= 0) {
        return false;
    }
    for (const auto& param : target.params()) {
        if (param.key == "expires") {
            const auto expires = parse_decimal(param.value);
            return !expires || static_cast<std::int64_t>(*expires) < now_millis();
        }
    }
    return true; // an unsigned link is no better than an expired one
}

} // namespace stemd::simulator
