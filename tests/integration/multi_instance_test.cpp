// Three `stemd serve` instances on one PostgreSQL database behind the
// suite's round-robin webhook forwarder: instances die and restart, and so
// does PostgreSQL, while sixty jobs run; nothing is lost, nothing is done
// twice, and the shared byId budget holds across instances.

#include "integration/fleet.hpp"
#include "integration/stack.hpp"
#include "support/pg_cluster.hpp"

#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

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

std::vector<std::string> submit_spread(fleet& f, int jobs) {
    std::vector<std::string> ids;
    for (int i = 0; i < jobs; ++i)
        ids.push_back(f.submit(i % f.size(), job_body(i)));
    return ids;
}

std::uint64_t stat(stack& s, std::string_view name) {
    const auto stats = s.simulator_get("/sim/stats").second;
    REQUIRE(stats.is_object());
    return stats.at(name).to_number<std::uint64_t>();
}

// Waits until at least `n` stem bodies are being sent at once.
void wait_for_downloads(stack& s, fleet& f, std::uint64_t n) {
    REQUIRE_MESSAGE(wait_until([&] { return stat(s, "stem_in_flight") >= n; }, 30s), f.logs());
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
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

TEST_CASE("three instances share sixty jobs through a SIGKILL and a restart") {
    const auto start = std::chrono::steady_clock::now();
    pg_cluster& pg = cluster();
    stack s("multi-kill", simulator_options());
    s.start_simulator();
    fleet f(s, fleet_on(pg.create_database()));
    f.start_all();
    const auto ids = submit_spread(f, 60);

    wait_for_downloads(s, f, 4);
    f.kill(0); // mid-download: its claims must expire and be taken over
    REQUIRE(f.stop(1) == 0);
    f.start(1);

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
    pg_cluster& pg = cluster();
    stack s("multi-pg-restart", simulator_options());
    s.start_simulator();
    fleet f(s, fleet_on(pg.create_database()));
    f.start_all();
    const auto ids = submit_spread(f, 30);

    wait_for_downloads(s, f, 3);
    pg.restart();

    const auto jobs = f.wait_all_completed(ids, 180s);
    check_all(s, jobs);
    check_upstream(s);
    for (int i = 0; i < f.size(); ++i)
        CHECK_MESSAGE(f.running(i), "instance " << i << " exited\n" << f.logs());
    MESSAGE("three instances, 30 jobs, PostgreSQL restart: " << seconds_since(start) << " s");
}
