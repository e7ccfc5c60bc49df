// No job is stuck for ever, with the real binaries: a stem link that stays
// dead, or a task byId no longer knows, ends in a failure with the reason
// within the link-refresh budget, and `stemd retry` brings the job back.
// Then the invariant over the simulator's whole fault table: every job of
// every scenario ends final, and while it is not, something of it is
// scheduled (a due download, a live claim, a planned status look-up).

#include "integration/stack.hpp"

#include "simulator/fault_plan.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <sqlite3.h>

#include <map>
#include <memory>

namespace json = boost::json;
using namespace stemd::test;
using namespace std::chrono_literals;

namespace {

// Status look-ups never wait for the token bucket here: the refresh loops
// under test are bounded by counts, not by the rate limit.
const std::string fast_lookups = "\n[reconcile]\nstatus_per_minute = 6000\n";

std::string submit_faulty(stack& s, const std::string& faults) {
    auto [status, created] = s.submit(R"({"audio_url":"https://songs.example/s.mp3?sim-fault=)" +
                                      faults + R"(","stems":["vocals"]})");
    REQUIRE_MESSAGE(status == 201, faults << ": " << json::serialize(created) << "\n" << s.logs());
    return str(created, "id");
}

std::uint64_t injected(stack& s, std::string_view fault) {
    auto [status, stats] = s.simulator_get("/sim/stats");
    REQUIRE(status == 200);
    return stemd::test::injected(stats, fault);
}

// Retries the job with the CLI; returns the job as the API then shows it.
// The job as the retry's own answer gives it: a second look-up could race the
// next failure, which fast look-ups make quick.
json::value retry(stack& s, const std::string& id) {
    const auto retried = s.cli({"retry", id, "--json"});
    REQUIRE_MESSAGE(retried.exit_code == 0, retried.out << retried.err << "\n" << s.logs());
    return json::parse(retried.out);
}

// What the daemon's database says of one job, read with SQLite itself.
struct job_state {
    std::string status;
    bool scheduled = false; // a due file, a live claim, or a planned look-up
    std::string detail;     // the row, for failure messages
};

// Every job's state, read-only, while the daemon runs (WAL lets it).
std::map<std::string, job_state> read_states(const std::filesystem::path& db) {
    sqlite3* raw = nullptr;
    const int opened = sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> handle(raw, sqlite3_close);
    REQUIRE_MESSAGE(opened == SQLITE_OK, db << ": " << sqlite3_errstr(opened));
    sqlite3_busy_timeout(raw, 2000);
    // A file waiting for a fresh link has next_attempt_at = INT64_MAX: it is
    // due only once a look-up brings the link, so it counts as nothing.
    const char* sql = R"sql(
SELECT jobs.id, jobs.status,
  (SELECT COUNT(*) FROM files f WHERE f.job_id = jobs.id
     AND f.status IN ('pending', 'downloading') AND f.next_attempt_at < 9223372036854775807),
  (SELECT COUNT(*) FROM files f WHERE f.job_id = jobs.id AND f.claim_owner IS NOT NULL),
  jobs.next_poll_at IS NOT NULL AND jobs.task_id IS NOT NULL,
  jobs.poll_owner IS NOT NULL,
  (SELECT COUNT(*) FROM files f WHERE f.job_id = jobs.id AND f.status = 'pending'
     AND f.next_attempt_at = 9223372036854775807)
FROM jobs)sql";
    sqlite3_stmt* stmt = nullptr;
    const int prepared = sqlite3_prepare_v2(raw, sql, -1, &stmt, nullptr);
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> statement(stmt, sqlite3_finalize);
    REQUIRE_MESSAGE(prepared == SQLITE_OK, sqlite3_errmsg(raw));
    std::map<std::string, job_state> out;
    int rc = SQLITE_OK;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const auto text = [&](int i) {
            return std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, i)));
        };
        job_state& j = out[text(0)];
        j.status = text(1);
        j.scheduled = sqlite3_column_int(stmt, 2) > 0 || sqlite3_column_int(stmt, 3) > 0 ||
                      sqlite3_column_int(stmt, 4) != 0 || sqlite3_column_int(stmt, 5) != 0;
        j.detail = j.status + " (due files " + text(2) + ", claimed files " + text(3) +
                   ", planned look-up " + text(4) + ", claimed look-up " + text(5) +
                   ", files waiting for a fresh link " + text(6) + ")";
    }
    REQUIRE_MESSAGE(rc == SQLITE_DONE, sqlite3_errmsg(raw));
    return out;
}

bool is_final(const job_state& j) {
    return j.status == "completed" || j.status == "failed";
}

// Every fault of the simulator's table alone, and every pair of them.
std::vector<std::string> fault_scenarios() {
    std::vector<std::string> out;
    const auto& table = stemd::simulator::fault_table;
    for (std::size_t i = 0; i < table.size(); ++i) {
        out.emplace_back(table[i].example);
        for (std::size_t k = i + 1; k < table.size(); ++k)
            out.push_back(std::string(table[i].example) + "," + std::string(table[k].example));
    }
    return out;
}

} // namespace

TEST_CASE("a stem link that stays dead fails within the refresh budget, and retry starts over") {
    // max_attempts is far above the refresh budget, so only the budget can
    // end the loop of refused link -> byId -> the same link.
    stack s("stuck-gone", {.max_attempts = 20, .extra_config = fast_lookups});
    s.start_simulator();
    s.start_serve();
    const auto id = submit_faulty(s, "gone");
    auto job = s.wait_for(id, "failed", 20s);
    const auto& file = only_file(job);
    CHECK(str(file, "status") == "failed");
    // The first link and three fresh ones (the default budget), each refused.
    CHECK(file.at("attempts").to_number<int>() == 4);
    CHECK(injected(s, "gone") == 4);
    CHECK_MESSAGE(str(job, "error").find("refused again after 3 fresh links") != std::string::npos,
                  str(job, "error"));
    CHECK(str(job, "error").find("fault=") == std::string::npos); // no signed query

    const auto back = retry(s, id);
    CHECK(str(back, "status") != "failed");
    job = s.wait_for(id, "failed", 20s);
    // A whole new budget: four more refused requests, not one.
    CHECK(only_file(job).at("attempts").to_number<int>() == 4);
    CHECK(injected(s, "gone") == 8);
}

TEST_CASE("a task byId answers 404 for: the waiting file fails, and retry brings the job back") {
    stack s("stuck-byid-404", {.max_attempts = 20, .extra_config = fast_lookups});
    s.start_simulator();
    s.start_serve();
    const auto id = submit_faulty(s, "gone,byid-404");
    auto job = s.wait_for(id, "failed", 20s);
    CHECK(str(only_file(job), "status") == "failed");
    CHECK_MESSAGE(str(job, "error").find("does not know task") != std::string::npos,
                  str(job, "error"));
    CHECK(str(job, "error").find("stemd retry") != std::string::npos);
    CHECK(injected(s, "byid-404") == 1);
    CHECK(s.serve_logs().find("no fresh one can be had") != std::string::npos);

    const auto back = retry(s, id);
    CHECK(str(back, "status") != "failed");
    job = s.wait_for(id, "failed", 20s);
    CHECK(str(job, "error").find("does not know task") != std::string::npos);
    CHECK(injected(s, "byid-404") == 2);
}

TEST_CASE("a job without files whose task byId never knows fails once old enough, and retry asks "
          "again") {
    // No webhook: the job learns everything through byId, which answers 404.
    stack s("stuck-unknown-task",
            {.extra_config = fast_lookups + "unknown_task_after = 1\n", .poll_only = true});
    s.start_simulator();
    s.start_serve();
    const auto id = submit_faulty(s, "byid-404");
    auto job = s.wait_for(id, "failed", 20s);
    CHECK(job.at("files").as_array().empty());
    CHECK_MESSAGE(str(job, "error").find("does not know task") != std::string::npos,
                  str(job, "error"));
    CHECK(str(job, "error").find("stemd retry") != std::string::npos);
    const auto asked = injected(s, "byid-404");
    CHECK(asked >= 1);
    // `stemd logs` shows how it ended.
    const auto history = s.api_request("GET", "/v1/jobs/" + id + "/events");
    REQUIRE(history.status == 200);
    const auto events = json::parse(history.body).at("events").as_array();
    REQUIRE_FALSE(events.empty());
    CHECK(str(events.back(), "kind") == "failed");

    const auto back = retry(s, id);
    CHECK(str(back, "status") != "failed");
    job = s.wait_for(id, "failed", 20s);
    CHECK(injected(s, "byid-404") == asked + 1);
}

TEST_CASE("over every simulator fault and pair of faults, no job is left with nothing to do") {
    stack s("stuck-matrix", {.stem_bytes = 16 * 1024,
                             .max_attempts = 4,
                             .extra_config = "idle_timeout = 1\n" + fast_lookups});
    s.start_simulator();
    s.start_serve();
    std::map<std::string, std::string> scenario_of; // job id -> its faults
    for (const auto& faults : fault_scenarios())
        scenario_of[submit_faulty(s, faults)] = faults;

    // Quiescence: every job final, sampled until a deadline; at each sample
    // a job that is not final must have its next step scheduled.
    std::map<std::string, job_state> states;
    std::vector<std::string> violations;
    const bool settled = wait_until(
        [&] {
            states = read_states(s.database());
            bool all_final = states.size() == scenario_of.size();
            for (const auto& [id, j] : states) {
                if (is_final(j))
                    continue;
                all_final = false;
                if (!j.scheduled)
                    violations.push_back(scenario_of[id] + ": " + j.detail);
            }
            return all_final;
        },
        45s);
    for (const auto& v : violations)
        FAIL_CHECK("non-final with nothing scheduled: " << v);
    for (const auto& [id, j] : states) {
        INFO("faults " << scenario_of[id] << ", job " << id);
        CHECK_MESSAGE(is_final(j), "not final by the deadline: " << j.detail);
    }
    CHECK_MESSAGE(settled, s.serve_logs());
    MESSAGE(scenario_of.size() << " scenarios over " << stemd::simulator::fault_table.size()
                               << " faults");
}
