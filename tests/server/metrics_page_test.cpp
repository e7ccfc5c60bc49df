#include "server/metrics_page.hpp"

#include "client/error.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

using namespace stemd;

namespace {

bool has_line(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos;
}

// Line by line: each family is "# HELP name ...", then "# TYPE name ..."
// with the same name, then its samples, all named after it; no sample
// before its TYPE, no family twice.
void check_families(const std::string& text) {
    std::vector<std::string> lines;
    for (std::size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1)
        lines.push_back(text.substr(at, nl - at));
    REQUIRE(!lines.empty());
    std::set<std::string> seen;
    std::string family; // the name of the TYPE line in force, "" before one
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string& line = lines[i];
        INFO("line " << i + 1 << ": " << line);
        if (line.starts_with("# HELP ")) {
            const std::string name = line.substr(7, line.find(' ', 7) - 7);
            CHECK(seen.insert(name).second);
            REQUIRE(i + 1 < lines.size());
            CHECK(lines[i + 1].starts_with("# TYPE " + name + " "));
            family.clear();
            continue;
        }
        if (line.starts_with("# TYPE ")) {
            REQUIRE_MESSAGE(i > 0, "a TYPE line without its HELP");
            family = line.substr(7, line.find(' ', 7) - 7);
            CHECK(lines[i - 1].starts_with("# HELP " + family + " "));
            continue;
        }
        REQUIRE_MESSAGE(!family.empty(), "a sample before its family's TYPE");
        const std::string sample = line.substr(0, line.find_first_of("{ "));
        CHECK((sample == family || sample == family + "_bucket" || sample == family + "_sum" ||
               sample == family + "_count"));
    }
    CHECK(seen.size() == 19);
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
    check_families(text);
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
}

TEST_CASE("metrics page: every client error maps to a declared download cause") {
    // client::error's codes run from 1 (bad_url) to not_found without gaps.
    const int last = static_cast<int>(client::error::not_found);
    for (int v = 1; v <= last; ++v) {
        const auto e = static_cast<client::error>(v);
        const auto c = jobs::download_cause(stemd::error{client::make_error_code(e), ""});
        CHECK_MESSAGE(std::find(jobs::download_causes.begin(), jobs::download_causes.end(), c) !=
                          jobs::download_causes.end(),
                      "client error " << v << " maps to undeclared cause " << c);
    }
    // The last code is still not_found: a code added after it must extend
    // this loop.
    CHECK(client::make_error_code(static_cast<client::error>(last + 1)).message().find("unknown") !=
          std::string::npos);
}
