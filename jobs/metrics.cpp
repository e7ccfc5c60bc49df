#include "jobs/metrics.hpp"

#include "client/error.hpp"

#include <chrono>

namespace stemd::jobs {

void daemon_metrics::webhook_refused(std::string_view reason) {
    webhooks_refused.add(reason);
    webhooks.add("refused");
}

void daemon_metrics::webhook_accepted() {
    webhooks.add("accepted");
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    last_webhook.set(std::chrono::duration<double>(now).count());
}

daemon_metrics& meters() {
    static daemon_metrics instance;
    return instance;
}

std::string_view download_cause(const stemd::error& e) {
    using client::error;
    if (e.code.category() != client::error_category())
        return "other";
    switch (static_cast<error>(e.code.value())) {
    case error::connection_failed:
    case error::no_address:
        return "network";
    case error::timeout:
    case error::too_slow:
        return "timeout";
    case error::server_busy:
        return "server_busy";
    case error::length_mismatch:
        return "truncated";
    case error::bad_response:
        return "bad_response";
    case error::link_expired:
        return "link_expired";
    case error::file_io:
        return "file_io";
    default:
        return "other";
    }
}

} // namespace stemd::jobs
