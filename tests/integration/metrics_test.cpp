// GET /metrics on the real daemon, through whole jobs against the
// simulator, read back with prometheus_client's own text parser (a Python
// script beside this file) and checked value by value.

#include "integration/stack.hpp"

#include "simulator/stem_audio.hpp"
#include "support/reference_signature.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <vector>

namespace json = boost::json;
using namespace stemd::test;
using namespace std::chrono_literals;

namespace {

double unix_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Without the parser there is nothing to check against: skip, loudly.
void require_prometheus_client() {
    auto probe = run({STEMD_PYTHON3, "-c", "import prometheus_client.parser"});
    if (probe.exit_code == 0)
        return;
    std::cerr << "SKIP: " STEMD_PYTHON3 " cannot import prometheus_client; install Debian's "
                 "python3-prometheus-client (.ci/install-deps)\n"
              << probe.err;
    std::exit(77);
}

// promtool's own check of a scrape, when it is installed (Debian's
// `prometheus` package; too large to install for this one check).
void promtool_check(stack& s, const std::filesystem::path& file) {
    if (run({"/bin/sh", "-c", "command -v promtool"}).exit_code != 0) {
        MESSAGE("promtool is not installed (Debian: prometheus): its check of the scrape is "
                "skipped");
        return;
    }
    auto checked = run({"/bin/sh", "-c", "promtool check metrics < \"$0\"", file.string()});
    CHECK_MESSAGE(checked.exit_code == 0, checked.out << checked.err << s.logs());
}

// One scrape as prometheus_client read it.
struct scrape {
    json::array families; // {name, type, help}
    json::object samples; // "name{label=\"value\",...}" -> value

    double operator[](const std::string& key) const {
        const auto* v = samples.if_contains(key);
        REQUIRE_MESSAGE(v != nullptr, "no sample " << key << " in " << json::serialize(samples));
        return v->to_number<double>();
    }
};

scrape scrape_metrics(stack& s) {
    auto answer = s.api_request("GET", "/metrics");
    REQUIRE_MESSAGE(answer.status == 200, answer.body << s.logs());
    CHECK(answer.headers.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") !=
          std::string::npos);
    const auto file = s.ws() / "metrics.txt";
    write_file(file, answer.body);
    promtool_check(s, file);
    auto parsed = run({STEMD_PYTHON3, STEMD_METRICS_PARSER, file.string()});
    REQUIRE_MESSAGE(parsed.exit_code == 0, parsed.err << "\n" << answer.body);
    auto doc = json::parse(parsed.out).as_object();
    scrape out{doc.at("families").as_array(), doc.at("samples").as_object()};
    // Every family says what it is, under stemd's prefix.
    for (const auto& f : out.families) {
        const auto name = str(f, "name");
        CHECK_MESSAGE(name.starts_with("stemd_"), name);
        CHECK_MESSAGE(!str(f, "help").empty(), name);
        const auto type = str(f, "type");
        CHECK_MESSAGE((type == "counter" || type == "gauge" || type == "histogram"), name);
    }
    return out;
}

std::string labelled(const std::string& name, const std::string& label, const std::string& value) {
    return name + "{" + label + "=\"" + value + "\"}";
}

void check_jobs(const scrape& m, const std::string& status_with_all, double count) {
    for (const char* status : {"submitting", "submitted", "downloading", "completed", "failed"})
        CHECK_MESSAGE(m[labelled("stemd_jobs", "status", status)] ==
                          (status == status_with_all ? count : 0),
                      status);
}

// The labelled counters, with their label and every value it takes, as
// the README documents them.
struct labelled_family {
    std::string label;
    std::vector<std::string> values;
};
const std::map<std::string, labelled_family> labelled_families = {
    {"stemd_webhooks_total",
     {"outcome", {"accepted", "duplicate", "refused", "deferred", "failed"}}},
    {"stemd_webhooks_refused_total",
     {"reason",
      {"unknown_token", "missing_signature", "bad_timestamp", "bad_signature", "malformed",
       "conflict", "invalid_report"}}},
    {"stemd_webhook_listener_requests_refused_total",
     {"reason", {"not_found", "method_not_allowed"}}},
    {"stemd_download_retries_total",
     {"cause",
      {"network", "timeout", "server_busy", "truncated", "bad_response", "link_expired", "file_io",
       "other"}}},
    {"stemd_download_failures_total",
     {"cause",
      {"network", "timeout", "server_busy", "truncated", "bad_response", "link_expired", "file_io",
       "other"}}},
    {"stemd_status_lookups_total", {"result", {"answered", "refused", "failed"}}},
    {"stemd_status_lookup_retries_total",
     {"cause",
      {"not_ready", "failed", "refused", "rate_limited", "unavailable", "bad_answer",
       "not_recorded"}}},
    {"stemd_musicgpt_rate_limited_total", {"call", {"submit", "status"}}},
};

// Family `name` has one sample for each value its label takes, no other,
// each 0 unless listed in `nonzero`.
void check_counts(const scrape& m, const std::string& name,
                  const std::map<std::string, double>& nonzero) {
    const auto declared = labelled_families.find(name);
    REQUIRE_MESSAGE(declared != labelled_families.end(), name);
    const auto& [label, values] = declared->second;
    for (const auto& [v, count] : nonzero)
        CHECK_MESSAGE(std::find(values.begin(), values.end(), v) != values.end(),
                      name << " has no " << label << " " << v);
    for (const auto& v : values)
        CHECK_MESSAGE(m[labelled(name, label, v)] == (nonzero.contains(v) ? nonzero.at(v) : 0.0),
                      name << " " << v);
    std::size_t samples = 0;
    for (const auto& [key, value] : m.samples)
        samples += key.starts_with(name + "{") ? 1 : 0;
    CHECK_MESSAGE(samples == values.size(), name);
}

const std::string signing_key = "metrics-test signing key, 32 by";
const std::string signing_secret = "whsec_" + openssl_base64(signing_key);

std::string signed_headers(const std::string& id, const std::string& body) {
    const std::string ts = std::to_string(static_cast<long long>(unix_now()));
    return "webhook-id: " + id + "\r\nwebhook-timestamp: " + ts +
           "\r\nwebhook-signature: " + openssl_sign(signing_key, id, ts, body) + "\r\n";
}

} // namespace

TEST_CASE("metrics: a whole job, a duplicate and refused webhooks are counted as they happened") {
    require_prometheus_client();
    constexpr std::uint64_t stem_bytes = 96 * 1024;
    // stemd wants signed deliveries: the simulator's own (unsigned) one is
    // refused, once, and the test posts the rest itself.
    stack s("metrics-job",
            {.api_version = "v1", .stem_bytes = stem_bytes, .signing_secret = signing_secret});
    s.start_simulator();
    const double before = unix_now();
    s.start_serve();

    // Token-locked like the rest of the API.
    auto anonymous = http_request(s.api_port(), "GET", "/metrics");
    CHECK(anonymous.status == 401);
    CHECK(anonymous.body.find("token") != std::string::npos);

    auto [status, created] =
        s.submit(R"({"audio_url":"https://songs.example/m.mp3","stems":["vocals","drums"]})");
    REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
    const auto id = str(created, "id");
    const auto task = str(created, "task_id");

    auto waiting = scrape_metrics(s);
    check_jobs(waiting, "submitted", 1);
    CHECK(waiting["stemd_oldest_unfinished_job_age_seconds{}"] > 0);
    CHECK(waiting["stemd_oldest_unfinished_job_age_seconds{}"] < 60);
    CHECK(waiting["stemd_last_webhook_timestamp_seconds{}"] == 0);

    // The simulator's delivery is refused, and not tried again (a 4xx).
    CHECK_MESSAGE(wait_for_stat(s, "webhook_failures", 1), s.logs());
    const auto path = webhook_path_of(s, task);
    const std::string files =
        "https://127.0.0.1:" + std::to_string(s.sim_port()) + "/files/" + task;
    const std::string body =
        json::serialize(json::object{{"success", true},
                                     {"task_id", task},
                                     {"conversion_id", str(created, "conversion_id")},
                                     {"vocals", files + "/vocals.wav"},
                                     {"drums", files + "/drums.wav"}});
    auto post = [&](const std::string& target, const std::string& bytes,
                    const std::string& headers) {
        return http_request(s.webhook_port(), "POST", target, bytes, "application/json", headers)
            .status;
    };
    CHECK(post("/webhook/" + std::string(64, 'b'), body, signed_headers("m0", body)) == 404);
    CHECK(post(path, body, "") == 401);
    CHECK(post(path, body, signed_headers("m0", body + " ")) == 401);
    CHECK(post(path, "{not json", signed_headers("m0", "{not json")) == 400);
    // Requests that are no delivery are counted apart from deliveries.
    CHECK(http_request(s.webhook_port(), "GET", "/favicon.ico").status == 404);
    CHECK(http_request(s.webhook_port(), "GET", path).status == 405);
    // A stem already complete on disk is taken as it is: it is no download.
    const auto on_disk = s.output_dir() / task / "drums.wav";
    std::filesystem::create_directories(on_disk.parent_path());
    write_file(on_disk, stemd::simulator::stem_audio(task, "drums", stem_bytes));
    CHECK(post(path, body, signed_headers("m1", body)) == 200);
    const double accepted_at = unix_now();
    CHECK(post(path, body, signed_headers("m1", body)) == 200);

    auto job = s.wait_for(id, "completed", 30s);
    check_files(s, job, stem_bytes);
    double sizes = 0;
    for (const auto& f : job.at("files").as_array())
        sizes += f.at("bytes").to_number<double>();

    const auto m = scrape_metrics(s);
    check_jobs(m, "completed", 1);
    check_counts(m, "stemd_webhooks_total", {{"accepted", 1}, {"duplicate", 1}, {"refused", 5}});
    check_counts(m, "stemd_webhook_listener_requests_refused_total",
                 {{"not_found", 1}, {"method_not_allowed", 1}});
    check_counts(
        m, "stemd_webhooks_refused_total",
        {{"unknown_token", 1}, {"missing_signature", 2}, {"bad_signature", 1}, {"malformed", 1}});
    // One stem fetched, the other found on disk.
    CHECK(sizes == 2 * stem_bytes);
    CHECK(m["stemd_download_files_total{}"] == 1);
    CHECK(m["stemd_download_bytes_total{}"] == stem_bytes);
    CHECK(m["stemd_download_duration_seconds_count{}"] == 1);
    CHECK(m["stemd_download_duration_seconds_bucket{le=\"+Inf\"}"] == 1);
    CHECK(m["stemd_download_duration_seconds_bucket{le=\"600\"}"] == 1);
    CHECK(m["stemd_download_duration_seconds_sum{}"] > 0);
    check_counts(m, "stemd_download_retries_total", {});
    check_counts(m, "stemd_download_failures_total", {});
    check_counts(m, "stemd_status_lookups_total", {});
    CHECK(m["stemd_download_queue_files{}"] == 0);
    CHECK(m["stemd_oldest_unfinished_job_age_seconds{}"] == 0);
    const double last = m["stemd_last_webhook_timestamp_seconds{}"];
    CHECK(last >= before);
    CHECK(last <= accepted_at);
    const double started = m["stemd_process_start_time_seconds{}"];
    CHECK(started >= before - 1);
    CHECK(started <= last);
    const auto version = run({STEMD_BINARY, "--version"}).out; // "stemd X.Y.Z\n"
    CHECK(m[labelled("stemd_build_info", "version", version.substr(6, version.size() - 7))] == 1);
}

TEST_CASE("metrics: 429s, status look-ups and download retries are counted by cause") {
    require_prometheus_client();
    // byId answers one call in any 2 s, and no webhook comes: the second
    // job's look-up is refused with 429 once.
    stack s("metrics-429", {.extra_config = "[reconcile]\noverdue_factor = 1\noverdue_floor = 1\n"
                                            "status_per_minute = 600\n",
                            .no_webhooks = true,
                            .status_limit = 1,
                            .status_window_ms = 2000});
    s.start_simulator();
    s.start_serve();
    std::vector<std::string> ids;
    for (const char* url :
         {"https://songs.example/a.mp3?sim-fault=503-once", "https://songs.example/b.mp3"}) {
        auto [status, created] =
            s.submit(std::string(R"({"stems":["vocals"],"audio_url":")") + url + "\"}");
        REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
        ids.push_back(str(created, "id"));
    }
    for (const auto& id : ids)
        s.wait_for(id, "completed", 30s);

    auto stats = s.simulator_get("/sim/stats").second;
    const double refused = stats.at("status_429").to_number<double>();
    const double asked = stats.at("status_requests").to_number<double>();
    REQUIRE(refused >= 1);
    const auto m = scrape_metrics(s);
    check_jobs(m, "completed", 2);
    check_counts(m, "stemd_musicgpt_rate_limited_total", {{"status", refused}});
    check_counts(m, "stemd_status_lookups_total",
                 {{"answered", asked - refused}, {"refused", refused}});
    check_counts(m, "stemd_status_lookup_retries_total", {{"rate_limited", refused}});
    check_counts(m, "stemd_download_retries_total", {{"server_busy", 1}});
    check_counts(m, "stemd_download_failures_total", {});
    CHECK(m["stemd_download_files_total{}"] == 2);
    check_counts(m, "stemd_webhooks_total", {});
    CHECK(m["stemd_last_webhook_timestamp_seconds{}"] == 0);
}

TEST_CASE("metrics: the bytes of an attempt that broke off count once, when they arrive") {
    require_prometheus_client();
    constexpr std::uint64_t stem_bytes = 256 * 1024;
    stack s("metrics-close-mid", {.stem_bytes = stem_bytes});
    s.start_simulator();
    s.start_serve();
    auto [status, created] = s.submit(
        R"({"stems":["vocals"],"audio_url":"https://songs.example/c.mp3?sim-fault=close-mid"})");
    REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
    const auto job = s.wait_for(str(created, "id"), "completed", 30s);
    CHECK(only_file(job).at("attempts").to_number<double>() == 2);
    // The first half came with the attempt that broke off, the rest with
    // the resumed one: every byte served, none twice.
    const auto m = scrape_metrics(s);
    CHECK(m["stemd_download_bytes_total{}"] == stem_bytes);
    CHECK(m["stemd_download_files_total{}"] == 1);
}

TEST_CASE(
    "metrics: a link that no look-up can refresh is a download failure, not a look-up retry") {
    require_prometheus_client();
    // One fresh link allowed: the first look-up that brings none gives up.
    stack s("metrics-no-fresh-link", {.extra_config = "max_link_refreshes = 1\n"
                                                      "[reconcile]\nstatus_per_minute = 6000\n"});
    s.start_simulator();
    s.start_serve();
    auto [status, created] = s.submit(
        R"({"stems":["vocals"],"audio_url":"https://songs.example/g.mp3?sim-fault=gone,byid-500-once"})");
    REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
    s.wait_for(str(created, "id"), "failed", 30s);
    const auto stats = s.simulator_get("/sim/stats").second;
    REQUIRE(injected(stats, "byid-500-once") == 1);

    const auto m = scrape_metrics(s);
    check_jobs(m, "failed", 1);
    check_counts(m, "stemd_status_lookups_total", {{"refused", 1}});
    check_counts(m, "stemd_status_lookup_retries_total", {});
    check_counts(m, "stemd_download_retries_total", {{"link_expired", 1}});
    check_counts(m, "stemd_download_failures_total", {{"link_expired", 1}});
    check_counts(m, "stemd_musicgpt_rate_limited_total", {});
}

TEST_CASE("metrics: a 503 from byId is a retry of its own, not a rate limit") {
    require_prometheus_client();
    stack s("metrics-byid-503", {.extra_config = "[reconcile]\noverdue_factor = 1\n"
                                                 "overdue_floor = 1\nstatus_per_minute = 6000\n",
                                 .no_webhooks = true});
    s.start_simulator();
    s.start_serve();
    auto [status, created] = s.submit(
        R"({"stems":["vocals"],"audio_url":"https://songs.example/u.mp3?sim-fault=byid-503-once"})");
    REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
    s.wait_for(str(created, "id"), "completed", 30s);
    const auto stats = s.simulator_get("/sim/stats").second;
    REQUIRE(injected(stats, "byid-503-once") == 1);

    const auto m = scrape_metrics(s);
    check_counts(
        m, "stemd_status_lookups_total",
        {{"answered", stats.at("status_requests").to_number<double>() - 1}, {"refused", 1}});
    check_counts(m, "stemd_status_lookup_retries_total", {{"unavailable", 1}});
    check_counts(m, "stemd_musicgpt_rate_limited_total", {});
}
