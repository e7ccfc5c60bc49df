#include "simulator/counters.hpp"

#include <algorithm>
#include <utility>

namespace stemd::simulator {

void counters::body_started(const std::string& path) {
    auto& p = stem_paths[path];
    ++p.gets;
    ++p.in_flight;
    p.max_in_flight = std::max(p.max_in_flight, p.in_flight);
}

void counters::body_ended(const std::string& path) {
    const auto p = stem_paths.find(path);
    if (p != stem_paths.end() && p->second.in_flight > 0) {
        --p->second.in_flight;
    }
}

namespace {

boost::json::object paths_json(const counters& c, std::uint64_t& peak, std::uint64_t& now) {
    boost::json::object out;
    for (const auto& [path, g] : c.stem_paths) {
        out[path] = {
            {"in_flight", g.in_flight}, {"max_in_flight", g.max_in_flight}, {"gets", g.gets}};
        peak = std::max(peak, g.max_in_flight);
        now += g.in_flight;
    }
    return out;
}

} // namespace

boost::json::object to_json(const counters& c, std::size_t tasks) {
    boost::json::object faults;
    for (const auto& [name, count] : c.faults) {
        faults[name] = count;
    }
    std::uint64_t peak = 0;
    std::uint64_t in_flight = 0;
    boost::json::object paths = paths_json(c, peak, in_flight);
    return {{"submissions", c.submissions},
            {"rejected_submissions", c.rejected_submissions},
            {"webhooks_delivered", c.webhooks_delivered},
            {"webhook_attempts", c.webhook_attempts},
            {"webhook_failures", c.webhook_failures},
            {"file_requests", c.file_requests},
            {"range_requests", c.range_requests},
            {"bytes_served", c.bytes_served},
            {"uploaded_bytes", c.uploaded_bytes},
            {"last_upload_sha256", c.last_upload_sha256},
            {"status_requests", c.status_requests},
            {"status_429", c.status_429},
            {"expired_links", c.expired_links},
            {"redirects_served", c.redirects_served},
            {"ranges_ignored", c.ranges_ignored},
            {"status_window_peak", c.status_window_peak},
            {"faults", faults},
            {"stem_paths", std::move(paths)},
            {"stem_max_in_flight", peak},
            {"stem_in_flight", in_flight},
            {"tasks", tasks}};
}

} // namespace stemd::simulator
