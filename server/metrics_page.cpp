#include "server/metrics_page.hpp"

#include <algorithm>

namespace stemd::server {

namespace {

namespace m = stemd::metrics;

double seconds(millis t) {
    return static_cast<double>(t) / 1000.0;
}

std::vector<m::family> store_families(const metrics_facts& f) {
    m::family jobs{"stemd_jobs", "Jobs in the database by status.", m::kind::gauge, {}};
    for (std::size_t i = 0; i < storage::job_statuses.size(); ++i)
        jobs.samples.push_back(
            {"",
             {{"status", std::string(storage::to_string(storage::job_statuses[i]))}},
             static_cast<double>(f.store.jobs[i])});
    const millis oldest = f.store.oldest_unfinished.value_or(f.now);
    return {
        std::move(jobs),
        m::gauge_family("stemd_download_queue_files",
                        "Files of unfinished jobs not yet saved: waiting, backing off, waiting "
                        "for a fresh link, or downloading.",
                        static_cast<double>(f.store.queued_files)),
        m::gauge_family("stemd_oldest_unfinished_job_age_seconds",
                        "Age of the oldest job that is neither completed nor failed; 0 when none.",
                        std::max(0.0, seconds(f.now - oldest))),
        m::gauge_family("stemd_notifications_pending",
                        "Events for the user's app ([notify]) not yet delivered, refused or "
                        "given up.",
                        static_cast<double>(f.store.pending_notifications)),
    };
}

std::vector<m::family> webhook_families(const jobs::daemon_metrics& d) {
    return {
        m::counter_family("stemd_webhooks_total",
                          "Webhook deliveries (POSTs to /webhook/{token}) received, by outcome.",
                          d.webhooks),
        m::counter_family("stemd_webhooks_refused_total", "Webhook deliveries refused, by reason.",
                          d.webhooks_refused),
        m::counter_family("stemd_webhook_listener_requests_refused_total",
                          "Requests to the webhook listener that are no delivery (another path "
                          "or method), by reason.",
                          d.listener_refused),
        m::gauge_family("stemd_last_webhook_timestamp_seconds",
                        "Unix time of the last accepted webhook delivery; 0 when none has come "
                        "since the process started.",
                        d.last_webhook.value()),
    };
}

std::vector<m::family> download_families(const jobs::daemon_metrics& d) {
    return {
        m::counter_family("stemd_download_files_total",
                          "Stem files downloaded and saved (not those found complete on disk).",
                          d.files_downloaded),
        m::counter_family("stemd_download_bytes_total",
                          "Bytes of stem bodies written to disk, counted as they arrive: "
                          "attempts that fail later count too, their bytes kept for resume "
                          "are not fetched again; files found complete on disk fetch none.",
                          d.bytes_downloaded),
        m::histogram_family("stemd_download_duration_seconds",
                            "Seconds the attempt that saved each file took, from connecting to "
                            "the file renamed into place (redirects, re-hashing a resumed part "
                            "and the fsyncs included); files found complete on disk are not "
                            "counted.",
                            d.download_seconds),
        m::counter_family("stemd_download_retries_total",
                          "Download attempts that failed and will be made again, by cause.",
                          d.download_retries),
        m::counter_family("stemd_download_failures_total",
                          "Files given up (the job fails), by the cause of the last attempt.",
                          d.download_failures),
    };
}

std::vector<m::family> musicgpt_families(const jobs::daemon_metrics& d) {
    return {
        m::counter_family("stemd_status_lookups_total",
                          "Calls of MusicGPT's status endpoint (byId), by result.",
                          d.status_lookups),
        m::counter_family("stemd_status_lookup_retries_total",
                          "Status look-ups planned again, by why (a job given up is not counted).",
                          d.status_retries),
        m::counter_family("stemd_musicgpt_rate_limited_total",
                          "HTTP 429 answers from MusicGPT, by call.", d.rate_limited),
        m::counter_family("stemd_notifications_total",
                          "Attempts to deliver an event to the user's app ([notify]), by how "
                          "each ended.",
                          d.notifications),
    };
}

} // namespace

std::string metrics_page(const jobs::daemon_metrics& d, const metrics_facts& facts) {
    std::vector<m::family> all = store_families(facts);
    for (auto* part : {&webhook_families, &download_families, &musicgpt_families})
        for (auto& f : (*part)(d))
            all.push_back(std::move(f));
    all.push_back(m::gauge_family("stemd_build_info", "The stemd version running; always 1.", 1,
                                  {{"version", std::string(facts.version)}}));
    all.push_back(m::gauge_family("stemd_process_start_time_seconds",
                                  "Unix time the process started.", seconds(facts.started_at)));
    return m::render(all);
}

namespace {
// Set while the program starts, before main.
const millis started_at = now_millis();
} // namespace

millis process_start() {
    return started_at;
}

} // namespace stemd::server
