// Catching up without webhooks: `stemd serve` asks the simulator's byId
// when a webhook is overdue or never asked for, when a stem link has
// expired, within a status rate limit; and a file that hit a full disk is
// retried with `stemd retry` once there is room again.

#include "integration/stack.hpp"

#include "storage/database.hpp"
#include "storage/sqlite_store.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <sys/resource.h>

namespace json = boost::json;
using namespace stemd::test;
using namespace std::chrono_literals;

namespace {

std::uint64_t stat_of(stack& s, std::string_view name) {
    auto [status, stats] = s.simulator_get("/sim/stats");
    REQUIRE(status == 200);
    return stats.at(name).to_number<std::uint64_t>();
}

// Overdue one second after submission (the simulator's eta is 1 s).
const std::string overdue_soon = "[reconcile]\noverdue_factor = 1\noverdue_floor = 1\n";

std::string submit_one(stack& s, const std::string& body) {
    auto [status, created] = s.submit(body);
    REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
    return str(created, "id");
}

// Sets the soft limit on the size of files `pid` may write (RLIMIT_FSIZE):
// a disk that is full as far as that process can tell.
void limit_file_size(int pid, rlim_t bytes) {
    rlimit old{};
    REQUIRE(::prlimit(pid, RLIMIT_FSIZE, nullptr, &old) == 0);
    rlimit now{bytes, old.rlim_max};
    REQUIRE(::prlimit(pid, RLIMIT_FSIZE, &now, nullptr) == 0);
}

} // namespace

TEST_CASE("a job whose webhook never comes completes through byId") {
    stack s("reconcile-no-webhook", {.extra_config = overdue_soon, .no_webhooks = true});
    s.start_simulator();
    s.start_serve();
    const auto id = submit_one(
        s, R"({"audio_url":"https://songs.example/quiet.mp3","stems":["vocals","drums"]})");
    auto job = s.wait_for(id, "completed", 15s);
    check_files(s, job, 64 * 1024);
    CHECK(str(job, "upstream_status") == "COMPLETED");
    CHECK(job.at("conversion_cost").to_number<double>() == doctest::Approx(0.157));
    CHECK(stat_of(s, "webhook_attempts") == 0);
    CHECK(stat_of(s, "status_requests") >= 1);
    CHECK(s.serve_logs().find("status look-up: COMPLETED") != std::string::npos);
}

TEST_CASE("poll-only mode sends no webhook_url and completes through byId") {
    stack s("reconcile-poll-only",
            {.extra_config = "[reconcile]\noverdue_floor = 1\n", .poll_only = true});
    s.start_simulator();
    s.start_serve();
    const auto id =
        submit_one(s, R"({"audio_url":"https://songs.example/polled.mp3","stems":["bass"]})");
    auto job = s.wait_for(id, "completed", 15s);
    check_files(s, job, 64 * 1024);
    // No webhook was even asked for.
    CHECK(stat_of(s, "webhook_attempts") == 0);
    CHECK(s.simulator_get("/sim/deliveries").second.as_array().empty());
    CHECK(read_file(s.ws() / "simulate.log").find("no webhook") != std::string::npos);
    CHECK(s.serve_logs().find("webhook.public_url is empty") != std::string::npos);
}

TEST_CASE("expired stem links are refreshed through byId and the right bytes arrive") {
    // Links are signed when the task is accepted and live 1 s; the webhook
    // comes after 1.5 s, so every link it carries is refused with 403.
    stack s("reconcile-expired-links", {.webhook_delay_ms = 1500, .link_ttl_ms = 1000});
    s.start_simulator();
    s.start_serve();
    const auto id = submit_one(
        s, R"({"audio_url":"https://songs.example/old.mp3","stems":["vocals","piano"]})");
    auto job = s.wait_for(id, "completed", 15s);
    check_files(s, job, 64 * 1024);
    CHECK(stat_of(s, "expired_links") >= 2);
    CHECK(stat_of(s, "status_requests") >= 1);
    for (const auto& f : job.at("files").as_array()) {
        // The refused try counts against the attempt budget.
        CHECK(f.at("attempts").to_number<int>() >= 2);
    }
    CHECK(s.serve_logs().find("asking MusicGPT for fresh links") != std::string::npos);
    // The signed query string never reaches the log.
    CHECK(s.serve_logs().find("expires=") == std::string::npos);
}

TEST_CASE("many overdue jobs respect byId's rate limit and Retry-After") {
    // stemd believes it may make 600 look-ups a minute; the simulator allows
    // 3 in any 2 s. Each 429 must pause every look-up for its Retry-After,
    // so the limit is hit about once per window rather than once per job.
    constexpr int jobs = 8;
    stack s("reconcile-rate-limit", {.extra_config = overdue_soon + "status_per_minute = 600\n",
                                     .no_webhooks = true,
                                     .status_limit = 3,
                                     .status_window_ms = 2000});
    s.start_simulator();
    s.start_serve();
    std::vector<std::string> ids;
    for (int i = 0; i < jobs; ++i)
        ids.push_back(submit_one(s, R"({"audio_url":"https://songs.example/many-)" +
                                        std::to_string(i) + R"(.mp3","stems":["vocals"]})"));
    std::vector<json::value> done;
    for (const auto& id : ids)
        done.push_back(s.wait_for(id, "completed", 20s));
    for (const auto& job : done)
        check_files(s, job, 64 * 1024);

    const auto refused = stat_of(s, "status_429");
    const auto asked = stat_of(s, "status_requests");
    INFO("status_requests " << asked << ", status_429 " << refused);
    CHECK(refused >= 1); // the limit was really reached
    CHECK(refused <= 4); // about one per window, not one per job
    CHECK(asked - refused >= static_cast<std::uint64_t>(jobs));
    CHECK(asked <= static_cast<std::uint64_t>(jobs) + refused + 2);
    CHECK(s.serve_logs().find("pausing all look-ups") != std::string::npos);
}

TEST_CASE("a job submitted before a crash is looked up after the restart") {
    stack s("reconcile-restart", {.extra_config = overdue_soon, .no_webhooks = true});
    s.start_simulator();
    s.start_serve();
    const auto id =
        submit_one(s, R"({"audio_url":"https://songs.example/crash.mp3","stems":["drums"]})");
    s.kill_serve(); // before the first look-up is due
    CHECK(stat_of(s, "status_requests") == 0);
    s.start_serve();
    auto job = s.wait_for(id, "completed", 15s);
    check_files(s, job, 64 * 1024);
}

TEST_CASE("a job left submitting by a dead stemd fails with advice and is never resubmitted") {
    stack s("reconcile-stale-submitting");
    s.start_simulator();
    // The database as a stemd killed between MusicGPT's answer and
    // recording it leaves it: one such job from two hours ago, one from now.
    std::string old_id, recent_id;
    {
        auto store = stemd::storage::sqlite_store::open(s.database());
        REQUIRE(store.has_value());
        auto old_job = store->create_job({.audio_url = "https://songs.example/lost.mp3"});
        auto recent_job = store->create_job({.audio_url = "https://songs.example/recent.mp3"});
        REQUIRE(old_job.has_value());
        REQUIRE(recent_job.has_value());
        old_id = old_job->id;
        recent_id = recent_job->id;
        stemd::storage::database db(s.database());
        db.execute("UPDATE jobs SET created_at = created_at - 7200000 WHERE id = '" + old_id + "'");
    }
    s.start_serve();
    auto failed = s.wait_for(old_id, "failed", 10s);
    CHECK(str(failed, "error").find("stemd stopped while submitting") != std::string::npos);
    CHECK(str(failed, "error").find("MusicGPT dashboard") != std::string::npos);
    // The recent one still waits for its webhook; neither went to MusicGPT again.
    CHECK(str(s.job(recent_id), "status") == "submitting");
    CHECK(stat_of(s, "submissions") == 0);
    CHECK(s.serve_logs().find("left submitting") != std::string::npos);
}

TEST_CASE("a full disk fails the file clearly, and stemd retry finishes the job") {
    constexpr std::uint64_t size = 3 * 1024 * 1024;
    constexpr rlim_t room = 1024 * 1024;
    stack s("reconcile-disk-full", {.stem_bytes = size, .max_attempts = 2});
    s.start_simulator();
    s.start_serve();
    limit_file_size(s.serve().pid(), room);

    const auto id =
        submit_one(s, R"({"audio_url":"https://songs.example/big.mp3","stems":["vocals"]})");
    auto failed = s.wait_for(id, "failed", 15s);
    REQUIRE(failed.at("files").as_array().size() == 1);
    const auto& file = failed.at("files").as_array()[0];
    CHECK(str(file, "status") == "failed");
    CHECK(str(file, "error").find("File too large") != std::string::npos);
    CHECK(str(file, "error").find("vocals.wav.part") != std::string::npos);
    CHECK(str(failed, "error").find("vocals") != std::string::npos);
    CHECK(str(failed, "error").find("File too large") != std::string::npos);
    CHECK(s.serve().running()); // SIGXFSZ did not kill it
    {
        stemd::storage::database db(s.database());
        stemd::storage::statement check(db, "PRAGMA integrity_check");
        REQUIRE(check.step());
        CHECK(check.column_text(0) == "ok");
    }

    // Not failed, unknown, wrong method: refused with a reason.
    auto unknown = s.api_request("POST", "/v1/jobs/no-such-job/retry");
    CHECK(unknown.status == 404);
    CHECK(s.api_request("GET", "/v1/jobs/" + id + "/retry").status == 405);

    limit_file_size(s.serve().pid(), RLIM_INFINITY);
    auto retried = s.cli({"retry", id, "--json"});
    REQUIRE_MESSAGE(retried.exit_code == 0, retried.out << retried.err << s.logs());
    auto accepted = json::parse(retried.out);
    CHECK(str(accepted, "status") == "downloading");
    CHECK(str(accepted, "error").empty());
    CHECK(accepted.at("files").as_array()[0].at("attempts").to_number<int>() == 0);

    auto job = s.wait_for(id, "completed", 15s);
    check_files(s, job, size);
    // Resumed from what was written before the disk filled up.
    CHECK(stat_of(s, "range_requests") >= 1);

    auto again = s.api_request("POST", "/v1/jobs/" + id + "/retry");
    CHECK(again.status == 409);
    CHECK(again.body.find("not failed") != std::string::npos);
    auto cli_again = s.cli({"retry", id});
    CHECK(cli_again.exit_code == 1);
    CHECK(cli_again.err.find("not failed") != std::string::npos);
}
