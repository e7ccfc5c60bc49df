// Three `stemd serve` instances on one PostgreSQL database behind the
// suite's round-robin webhook forwarder: instances die and restart, and so
// does PostgreSQL, while sixty jobs run; nothing is lost, nothing is done
// twice, and the shared byId budget holds across instances.

#include "integration/fleet.hpp"
#include "integration/stack.hpp"
#include "simulator/stem_audio.hpp"
#include "support/pg_cluster.hpp"
#if STEMD_MULTI_S3
#include "support/s3_server.hpp"
#endif

#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <set>

namespace json = boost::json;
using namespace stemd::test;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t stem_bytes = 256 * 1024;
constexpr std::uint64_t rate = 512 * 1024; // half a second per stem
constexpr int budget = 60;                 // byId calls a minute, for all instances together
// Jobs overdue after a second, so that those whose webhook is withheld are
// found through byId at once (and the budget is drawn on).
const std::string overdue_soon = "overdue_factor = 1\noverdue_floor = 1\n";

// The cluster, or a loud skip when PostgreSQL 15 cannot run here.
pg_cluster& cluster() {
    try {
        return pg_cluster::shared();
    } catch (const std::exception& e) {
        std::cerr << "SKIP: the multi-instance tests need PostgreSQL 15 (postgresql-15, "
                     ".ci/install-deps): "
                  << e.what() << '\n';
        std::exit(77);
    }
}

stack_options simulator_options() {
    return {.stem_bytes = stem_bytes,
            .rate = rate,
            .webhook_delay_ms = 300,
            .status_limit = budget,
            .status_window_ms = 60'000};
}

fleet_options fleet_on(const std::string& database) {
    return {.instances = 3,
            .database = database,
            .status_per_minute = budget,
            .concurrency = 2,
            .reconcile_config = overdue_soon};
}

// Job i: two stems; every seventh has its webhook withheld, so only a
// status look-up finishes it.
std::string job_body(int i) {
    return R"({"audio_url":"https://songs.example/multi-)" + std::to_string(i) +
           (i % 7 == 3 ? ".mp3?sim-no-webhook" : ".mp3") + R"(","stems":["vocals","drums"]})";
}

std::uint64_t stat(stack& s, std::string_view name) {
    const auto stats = s.simulator_get("/sim/stats").second;
    REQUIRE(stats.is_object());
    return stats.at(name).to_number<std::uint64_t>();
}

// Starts the simulator and the fleet, submits `jobs` jobs spread over the
// instances' APIs and waits until `downloading` stem bodies are being sent
// at once. Returns the job ids.
std::vector<std::string> start_and_submit(stack& s, fleet& f, int jobs, std::uint64_t downloading) {
    s.start_simulator();
    f.start_all();
    std::vector<std::string> ids;
    for (int i = 0; i < jobs; ++i)
        ids.push_back(f.submit(i % f.size(), job_body(i)));
    REQUIRE_MESSAGE(wait_until([&] { return stat(s, "stem_in_flight") >= downloading; }, 30s),
                    f.logs());
    return ids;
}

// Mid-download: instance 0 crashes (its claims must expire and be taken
// over), instance 1 is stopped cleanly and started again.
void crash_and_restart(fleet& f) {
    f.kill(0);
    REQUIRE(f.stop(1) == 0);
    f.start(1);
}

// Every job completed with both stems, each recorded once, right bytes and
// SHA-256 (check_files compares with the simulator's generator), and no
// path recorded by two jobs.
void check_all(stack& s, const std::vector<json::value>& jobs) {
    std::set<std::string> paths;
    for (const auto& job : jobs) {
        CAPTURE(json::serialize(job));
        const auto& files = job.at("files").as_array();
        CHECK(files.size() == 2);
        for (const auto& file : files)
            CHECK(paths.insert(str(file, "path")).second);
        check_files(s, job, stem_bytes);
    }
}

// What the simulator saw: no stem fetched by two at once, no byId refused,
// no window of 60 s with more look-ups than the budget.
void check_upstream(stack& s) {
    const auto stats = s.simulator_get("/sim/stats").second;
    INFO(json::serialize(stats));
    CHECK(stats.at("stem_max_in_flight").to_number<std::uint64_t>() == 1);
    CHECK(stats.at("stem_in_flight").to_number<std::uint64_t>() == 0);
    CHECK(stats.at("status_429").to_number<std::uint64_t>() == 0);
    CHECK(stats.at("status_window_peak").to_number<std::uint64_t>() <=
          static_cast<std::uint64_t>(budget));
    MESSAGE("byId calls " << stats.at("status_requests") << ", at most "
                          << stats.at("status_window_peak") << " in any 60 s (budget " << budget
                          << ")");
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

TEST_CASE("three instances share sixty jobs through a SIGKILL and a restart") {
    const auto start = std::chrono::steady_clock::now();
    stack s("multi-kill", simulator_options());
    fleet f(s, fleet_on(cluster().create_database()));
    // Five stem bodies in flight with two per instance at most: all three
    // instances are mid-download when instance 0 is killed.
    const auto ids = start_and_submit(s, f, 60, 5);
    crash_and_restart(f);

    const auto jobs = f.wait_all_completed(ids, 240s);
    check_all(s, jobs);
    check_upstream(s);
    // The withheld webhooks were made up for by byId, across instances.
    CHECK(stat(s, "status_requests") >= 8);
    // Webhooks reached every instance, and none was lost at the forwarder.
    const auto hooks = f.hooks().forwarded();
    INFO("webhooks per instance " << hooks[0] << " " << hooks[1] << " " << hooks[2]);
    for (const auto n : hooks)
        CHECK(n > 0);
    CHECK(f.hooks().dropped() == 0);
    MESSAGE("three instances, 60 jobs, SIGKILL + restart: " << seconds_since(start) << " s");
}

TEST_CASE("instances reconnect after PostgreSQL restarts mid-run, losing nothing") {
    const auto start = std::chrono::steady_clock::now();
    stack s("multi-pg-restart", simulator_options());
    fleet f(s, fleet_on(cluster().create_database()));
    const auto ids = start_and_submit(s, f, 30, 3);
    cluster().restart();

    const auto jobs = f.wait_all_completed(ids, 180s);
    check_all(s, jobs);
    check_upstream(s);
    for (int i = 0; i < f.size(); ++i)
        CHECK_MESSAGE(f.running(i), "instance " << i << " exited\n" << f.logs());
    MESSAGE("three instances, 30 jobs, PostgreSQL restart: " << seconds_since(start) << " s");
}

TEST_CASE("three instances asking about more jobs than the byId budget send no more than it") {
    // 15 jobs whose webhook never comes, all overdue after a second, and a
    // budget of 12 a minute (a burst of 1, then one every 5.5 s): three
    // buckets of their own would send all 15 within 30 s, past the
    // simulator's limit of 12 in any 60 s; one shared bucket sends 12 in
    // the first minute and the rest after.
    constexpr int small_budget = 12;
    constexpr int withheld = 15;
    const auto start = std::chrono::steady_clock::now();
    stack s("multi-budget",
            {.stem_bytes = 4096, .status_limit = small_budget, .status_window_ms = 60'000});
    fleet_options options = fleet_on(cluster().create_database());
    options.status_per_minute = small_budget;
    fleet f(s, options);
    s.start_simulator();
    f.start_all();
    std::vector<std::string> ids;
    for (int i = 0; i < withheld; ++i)
        ids.push_back(f.submit(i % f.size(), R"({"audio_url":"https://songs.example/budget-)" +
                                                 std::to_string(i) +
                                                 R"(.mp3?sim-no-webhook","stems":["vocals"]})"));
    const auto jobs = f.wait_all_completed(ids, 150s);
    CHECK(jobs.size() == static_cast<std::size_t>(withheld));
    const auto stats = s.simulator_get("/sim/stats").second;
    INFO(json::serialize(stats));
    CHECK(stats.at("status_requests").to_number<std::uint64_t>() >=
          static_cast<std::uint64_t>(withheld));
    CHECK(stats.at("status_429").to_number<std::uint64_t>() == 0);
    CHECK(stats.at("status_window_peak").to_number<std::uint64_t>() <=
          static_cast<std::uint64_t>(small_budget));
    MESSAGE("three instances, " << withheld << " look-ups on a budget of " << small_budget
                                << " a minute: " << seconds_since(start) << " s");
}

#if STEMD_MULTI_S3
namespace {

// The Location header of an answer ("" when there is none).
std::string location_of(const http_answer& a) {
    std::string lower = a.headers;
    for (auto& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto at = lower.find("location:");
    if (at == std::string::npos)
        return {};
    const auto start = a.headers.find_first_not_of(' ', at + 9);
    return a.headers.substr(start, a.headers.find("\r\n", start) - start);
}

// Each stem of a completed job is an object in the bucket, served through
// stemd's file route (a redirect to a presigned URL), with the simulator's
// bytes and the recorded SHA-256.
void check_objects(fleet& f, const s3_server& s3, const json::value& job) {
    const std::string task = str(job, "task_id");
    const auto& files = job.at("files").as_array();
    CHECK(files.size() == 2);
    for (const auto& file : files) {
        const std::string name = str(file, "name");
        const std::string stem = name.substr(name.rfind('/') + 1);
        CAPTURE(json::serialize(file));
        CHECK(str(file, "path").starts_with("s3://" + s3.bucket() + "/stems/" + task + "/"));
        const auto redirect =
            f.api_request(1, "GET", "/v1/jobs/" + str(job, "id") + "/files/" + name);
        REQUIRE(redirect.status == 302);
        const std::string url = location_of(redirect);
        const std::string prefix = s3.endpoint();
        REQUIRE_MESSAGE(url.starts_with(prefix), url);
        const auto object = http_request(s3.port(), "GET", url.substr(prefix.size()), "", "");
        REQUIRE(object.status == 200);
        const std::string stem_name = stem.substr(0, stem.rfind('.'));
        CHECK(object.body == stemd::simulator::stem_audio(task, stem_name, stem_bytes));
        CHECK(str(file, "sha256") == sha256_hex(object.body));
    }
}

} // namespace

TEST_CASE("three instances put stems in S3 through a SIGKILL, leaving no unfinished upload") {
    s3_server::skip_unless_available();
    const auto start = std::chrono::steady_clock::now();
    s3_server s3("stemd-multi");
    stack s("multi-s3", simulator_options());
    const auto credentials =
        s.ws().write("s3-credentials", "[default]\naws_access_key_id = " + s3.access_key() +
                                           "\naws_secret_access_key = " + s3.secret_key() + "\n");
    fleet_options options = fleet_on(cluster().create_database());
    options.local_output = false;
    options.storage_config = "output = \"s3://" + s3.bucket() + "/stems\"\n";
    options.tables = "[s3]\nendpoint = \"" + s3.endpoint() + "\"\nregion = \"" + s3.region() +
                     "\"\nallow_http = true\ncredentials_file = \"" + credentials.string() + "\"\n";
    fleet f(s, options);
    const auto ids = start_and_submit(s, f, 60, 5);
    crash_and_restart(f); // instance 0's multipart uploads are left unfinished

    const auto jobs = f.wait_all_completed(ids, 240s);
    for (const auto& job : jobs)
        check_objects(f, s3, job);
    check_upstream(s);
    CHECK(s3.leftover_uploads().empty());
    MESSAGE("three instances, 60 jobs to S3, SIGKILL + restart: " << seconds_since(start) << " s");
}
#endif
