#include "simulator/counters.hpp"

namespace stemd::simulator {

boost::json::object to_json(const counters& c, std::size_t tasks) {
    boost::json::object faults;
    for (const auto& [name, count] : c.faults) {
        faults[name] = count;
    }
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
            {"faults", faults},
            {"tasks", tasks}};
}

} // namespace stemd::simulator
