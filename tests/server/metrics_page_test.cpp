#include "server/metrics_page.hpp"

#include "client/error.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace stemd;

namespace {

bool has_line(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos;
}

} // namespace

TEST_CASE("metrics page: store gauges, the oldest job's age, build info and start time") {
    jobs::daemon_metrics m;
    server::metrics_facts facts;
    facts.store.jobs = {1, 2, 3, 4, 5};
    facts.store.queued_files = 7;
    facts.store.oldest_unfinished = 1'000'000;
    facts.now = 1'090'500;
    facts.started_at = 999'000;
    facts.version = "1.2.3";
    auto text = server::metrics_page(m, facts);
    CHECK(has_line(text, R"(stemd_jobs{status="submitting"} 1)"));
    CHECK(has_line(text, R"(stemd_jobs{status="failed"} 5)"));
    CHECK(has_line(text, "stemd_download_queue_files 7"));
    CHECK(has_line(text, "stemd_oldest_unfinished_job_age_seconds 90.5"));
    CHECK(has_line(text, R"(stemd_build_info{version="1.2.3"} 1)"));
    CHECK(has_line(text, "stemd_process_start_time_seconds 999"));
    CHECK(has_line(text, "stemd_last_webhook_timestamp_seconds 0"));

    // No unfinished job: the age is 0, not absent.
    facts.store.oldest_unfinished.reset();
    text = server::metrics_page(m, facts);
    CHECK(has_line(text, "stemd_oldest_unfinished_job_age_seconds 0"));
}

TEST_CASE("metrics page: the counters the daemon increments, each family with HELP and TYPE") {
    jobs::daemon_metrics m;
    m.webhook_refused("bad_signature");
    m.webhook_accepted();
    m.download_retries.add(jobs::download_cause(
        stemd::error{client::make_error_code(client::error::length_mismatch), "short"}));
    m.download_seconds.observe(3);
    const auto text = server::metrics_page(m, {});
    CHECK(has_line(text, R"(stemd_webhooks_total{outcome="refused"} 1)"));
    CHECK(has_line(text, R"(stemd_webhooks_total{outcome="accepted"} 1)"));
    CHECK(has_line(text, R"(stemd_webhooks_refused_total{reason="bad_signature"} 1)"));
    CHECK(has_line(text, R"(stemd_download_retries_total{cause="truncated"} 1)"));
    CHECK(has_line(text, R"(stemd_download_duration_seconds_bucket{le="2.5"} 0)"));
    CHECK(has_line(text, R"(stemd_download_duration_seconds_bucket{le="5"} 1)"));
    CHECK(text.find("stemd_last_webhook_timestamp_seconds 0\n") == std::string::npos);
    // Every sample's family is introduced by its HELP and TYPE lines.
    std::size_t families = 0;
    for (std::size_t at = text.find("# TYPE "); at != std::string::npos;
         at = text.find("# TYPE ", at + 1))
        ++families;
    std::size_t helps = 0;
    for (std::size_t at = text.find("# HELP "); at != std::string::npos;
         at = text.find("# HELP ", at + 1))
        ++helps;
    CHECK(families == 16);
    CHECK(helps == families);
}

TEST_CASE("metrics page: download errors are counted under their cause class") {
    auto cause = [](client::error e) {
        return std::string(jobs::download_cause(stemd::error{client::make_error_code(e), ""}));
    };
    CHECK(cause(client::error::connection_failed) == "network");
    CHECK(cause(client::error::no_address) == "network");
    CHECK(cause(client::error::timeout) == "timeout");
    CHECK(cause(client::error::too_slow) == "timeout");
    CHECK(cause(client::error::server_busy) == "server_busy");
    CHECK(cause(client::error::length_mismatch) == "truncated");
    CHECK(cause(client::error::link_expired) == "link_expired");
    CHECK(cause(client::error::file_io) == "file_io");
    CHECK(cause(client::error::tls_not_trusted) == "other");
    CHECK(jobs::download_cause(stemd::error{make_error_code(boost::system::errc::io_error), ""}) ==
          "other");
    // Every cause it gives is one the counters declare.
    for (const auto& c : jobs::download_causes)
        CHECK_NOTHROW(jobs::daemon_metrics{}.download_retries.add(c));
}
