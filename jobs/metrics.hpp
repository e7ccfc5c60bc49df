#pragma once

// What the daemon counts for GET /metrics: one process-wide set of
// instruments, incremented where the events happen (the webhook handler,
// the download scheduler, the status poller, submissions) and rendered by
// server/metrics_page.cpp together with the gauges read from the store.
// Every label takes only the values declared here.

#include "common/error.hpp"
#include "common/metrics.hpp"

#include <string_view>
#include <vector>

namespace stemd::jobs {

// The causes a download failure is counted under (download_cause()).
inline const std::vector<std::string_view> download_causes = {
    "network",      "timeout",      "server_busy", "truncated",
    "bad_response", "link_expired", "file_io",     "other"};

struct daemon_metrics {
    // Webhook deliveries (POSTs to /webhook/{token}) by outcome; a refused
    // one also by its reason.
    stemd::metrics::labelled_counter webhooks{
        "outcome", {"accepted", "duplicate", "refused", "deferred", "failed"}};
    stemd::metrics::labelled_counter webhooks_refused{"reason",
                                                      {"unknown_token", "missing_signature",
                                                       "bad_timestamp", "bad_signature",
                                                       "malformed", "conflict", "invalid_report"}};
    // Requests to the public listener that are no delivery at all (any
    // other path, any other method): scanners and the like, apart so that
    // they cannot swamp the deliveries refused.
    stemd::metrics::labelled_counter listener_refused{"reason",
                                                      {"not_found", "method_not_allowed"}};
    // Unix seconds of the last accepted delivery; 0 until there is one.
    stemd::metrics::gauge last_webhook;

    // Files saved, the stem bytes fetched (each chunk as it arrives, also
    // STATUS='s rate), and how long each saved file took.
    stemd::metrics::counter files_downloaded;
    stemd::metrics::counter bytes_downloaded;
    stemd::metrics::histogram download_seconds{
        {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}};
    // Attempts that will be made again, and files given up, by cause.
    stemd::metrics::labelled_counter download_retries{"cause", download_causes};
    stemd::metrics::labelled_counter download_failures{"cause", download_causes};

    // MusicGPT's byId: each call by its result, each look-up planned again
    // by why, and the 429s of byId and of submissions.
    stemd::metrics::labelled_counter status_lookups{"result", {"answered", "refused", "failed"}};
    stemd::metrics::labelled_counter status_retries{"cause",
                                                    {"not_ready", "failed", "refused",
                                                     "rate_limited", "unavailable", "bad_answer",
                                                     "not_recorded"}};
    stemd::metrics::labelled_counter rate_limited{"call", {"submit", "status"}};

    // Attempts to tell the user's app ([notify]), by how each ended.
    stemd::metrics::labelled_counter notifications{"outcome",
                                                   {"delivered", "refused", "retry", "failed"}};

    void webhook_refused(std::string_view reason);
    void webhook_accepted();
};

// The daemon's instruments (one per process: the scrape and every event
// see the same numbers).
daemon_metrics& meters();

// The cause a failed download is counted under: network (connecting, TLS,
// the transfer, no address), timeout (no progress, or past max_duration),
// server_busy (HTTP 408/425/429/5xx), truncated (fewer or more bytes than
// announced), bad_response, link_expired (401/403/404/410), file_io (the
// local disk), other (refusals that no retry changes).
std::string_view download_cause(const stemd::error& e);

} // namespace stemd::jobs
