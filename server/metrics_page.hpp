#pragma once

// GET /metrics: the daemon's counters and the store's gauges in the
// Prometheus text format (common/metrics.hpp). A pure function of what it
// is given, so the page is tested without a daemon.

#include "common/time.hpp"
#include "jobs/metrics.hpp"
#include "storage/store.hpp"

#include <string>
#include <string_view>

namespace stemd::server {

struct metrics_facts {
    storage::store_gauges store;
    millis now = 0;
    millis started_at = 0; // when this process started
    std::string_view version;
};

std::string metrics_page(const jobs::daemon_metrics& m, const metrics_facts& facts);

// When this process started (read as the program starts).
millis process_start();

} // namespace stemd::server
