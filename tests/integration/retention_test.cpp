// Retention through the real binary: `stemd prune` by hand (dry run
// first), the background loop on its own, files removed only beneath
// output_dir and never through a link, jobs under way never touched, and
// the database giving its pages back.

#include "integration/notify_socket.hpp"
#include "integration/stack.hpp"

#include "common/time.hpp"
#include "storage/database.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <csignal>
#include <memory>

#include <sqlite3.h>

namespace json = boost::json;
using namespace stemd::test;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t day_ms = 24LL * 3600 * 1000;

std::string submit_one(stack& s, const std::string& body) {
    auto [status, created] = s.submit(body);
    REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
    return str(created, "id");
}

// A job that stays `submitted`: its webhook goes to a path that is not
// stemd's, and its first status look-up is minutes away.
std::string unfinished_job(stack& s) {
    const auto id = submit_one(
        s, R"({"audio_url":"https://songs.example/late.mp3?sim-webhook-first=/elsewhere"})");
    CHECK(str(s.job(id), "status") == "submitted");
    return id;
}

void stop_serve(stack& s) {
    s.serve().signal(SIGTERM);
    REQUIRE(s.serve().wait(20s) == 0);
}

// What the stopped daemon's database says, and making every job look
// `days` older than it is (nothing in stemd can do that: a test's clock).
struct db_size {
    std::int64_t pages = 0;
    std::int64_t free = 0;
};

db_size age_jobs(stack& s, int days) {
    stemd::storage::database db(s.database());
    db.execute("UPDATE jobs SET updated_at = updated_at - " + std::to_string(days * day_ms));
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)");
    db_size out;
    stemd::storage::statement pages(db, "PRAGMA page_count");
    out.pages = pages.step() ? pages.column_int(0) : 0;
    stemd::storage::statement free(db, "PRAGMA freelist_count");
    out.free = free.step() ? free.column_int(0) : 0;
    return out;
}

// The integer the last statement of `sql` answers, on the stopped
// daemon's database through SQLite itself (not stemd's wrapper, which would
// switch a new file to incremental vacuum).
std::int64_t pragma(stack& s, const std::string& sql) {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(s.database().c_str(), &raw) == SQLITE_OK);
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, sqlite3_close);
    std::int64_t value = -1;
    auto keep = [](void* out, int n, char** cells, char**) {
        if (n > 0 && cells[0])
            *static_cast<std::int64_t*>(out) = std::stoll(cells[0]);
        return 0;
    };
    REQUIRE_MESSAGE(sqlite3_exec(raw, sql.c_str(), keep, &value, nullptr) == SQLITE_OK,
                    sqlite3_errmsg(raw));
    return value;
}

db_size size_of(stack& s) {
    return age_jobs(s, 0);
}

int api_status(stack& s, const std::string& id) {
    return s.api_request("GET", "/v1/jobs/" + id).status;
}

json::object json_of(const run_result& r) {
    return json::parse(r.out).as_object();
}

} // namespace

TEST_CASE("stemd prune: a dry run removes nothing, then old finished jobs go, links are not "
          "followed, jobs under way stay, and the database shrinks") {
    stack s(
        "retention-prune",
        {.stem_bytes = 2048, .extra_config = "[retention]\nkeep_days = 0\ndelete_files = true\n"});
    s.start_simulator();
    s.start_serve();
    // Long source URLs make rows that fill pages, so their removal shows.
    const std::string padding(3000, 'p');
    std::vector<std::string> done;
    for (int i = 0; i < 20; ++i)
        done.push_back(submit_one(s, R"({"audio_url":"https://songs.example/)" + std::to_string(i) +
                                         ".mp3?pad=" + padding +
                                         R"(","stems":["vocals","drums"]})"));
    for (const auto& id : done)
        s.wait_for(id, "completed", 30s);
    const auto busy = unfinished_job(s);
    // A stem replaced by a link to a file outside output_dir.
    const auto first = s.job(done[0]);
    const std::filesystem::path linked(str(first.at("files").as_array()[0], "path"));
    const auto precious = s.ws().write("precious.mp3", "not stemd's to delete");
    std::filesystem::remove(linked);
    std::filesystem::create_symlink(precious, linked);
    // files_under follows the link: 39 stems and the link.
    REQUIRE(files_under(s.output_dir()).size() == 40);

    stop_serve(s);
    const auto before = age_jobs(s, 40);
    s.start_serve();

    // Usage errors come before any request (the API address is unused).
    for (const auto* bad : {"30", "3x", "d", "-1d"}) {
        const auto r =
            run({STEMD_BINARY, "prune", "--older-than", bad, "--api", "http://127.0.0.1:1"});
        CHECK_MESSAGE(r.exit_code == 2, bad << ": " << r.err);
        CHECK(r.err.find("30d") != std::string::npos);
    }
    CHECK(run({STEMD_BINARY, "prune", "--api", "http://127.0.0.1:1"}).exit_code == 2);

    const auto dry = s.cli({"prune", "--older-than", "30d", "--dry-run"});
    INFO(dry.out << dry.err);
    REQUIRE(dry.exit_code == 0);
    CHECK(dry.out.find("would remove 20 jobs and 40 files") != std::string::npos);
    for (const auto& id : done)
        CHECK(dry.out.find(id) != std::string::npos);
    CHECK(dry.out.find(busy) == std::string::npos);
    CHECK(dry.out.find("none removed on a dry run") != std::string::npos);
    CHECK(api_status(s, done[1]) == 200);
    CHECK(files_under(s.output_dir()).size() == 40);

    const auto younger = json_of(s.cli({"prune", "--older-than", "50d", "--json"}));
    CHECK(younger.at("jobs").as_int64() == 0);

    const auto pruned = s.cli({"prune", "--older-than", "30d", "--json"});
    INFO(pruned.out << pruned.err << s.serve_logs());
    REQUIRE(pruned.exit_code == 0);
    const auto summary = json_of(pruned);
    CHECK(summary.at("jobs").as_int64() == 20);
    CHECK(summary.at("files").as_int64() == 40);
    CHECK(summary.at("delete_files").as_bool());
    CHECK(summary.at("files_deleted").as_int64() == 39);
    CHECK(summary.at("bytes_deleted").as_int64() == 39 * 2048);
    REQUIRE(summary.at("left_in_place").as_array().size() == 1);
    CHECK(
        std::string(summary.at("left_in_place").as_array()[0].as_string()).find("symbolic link") !=
        std::string::npos);
    for (const auto& id : done)
        CHECK(api_status(s, id) == 404);
    CHECK(read_file(precious) == "not stemd's to delete");
    CHECK(std::filesystem::is_symlink(linked));
    // Only the link and the folder holding it are left.
    CHECK(files_under(s.output_dir()) ==
          std::vector<std::string>{std::filesystem::relative(linked, s.output_dir()).string()});
    CHECK(std::distance(std::filesystem::directory_iterator(s.output_dir()),
                        std::filesystem::directory_iterator()) == 1);
    CHECK(str(s.job(busy), "status") == "submitted");

    stop_serve(s);
    const auto after = size_of(s);
    INFO("pages " << before.pages << " -> " << after.pages << ", free " << before.free << " -> "
                  << after.free);
    CHECK(after.free == 0);
    CHECK(after.pages < before.pages - 10);
}

TEST_CASE("retention: the background loop prunes old finished jobs on its own and keeps their "
          "files unless told") {
    stack s("retention-loop",
            {.stem_bytes = 2048, .extra_config = "[retention]\nkeep_days = 30\n"});
    s.start_simulator();
    // A database as an older stemd left it: auto_vacuum off.
    std::filesystem::create_directories(s.database().parent_path());
    CHECK(pragma(s, "PRAGMA auto_vacuum=NONE; CREATE TABLE older (x); PRAGMA auto_vacuum") == 0);
    s.start_serve();
    CHECK(s.serve_logs().find("once with VACUUM") != std::string::npos);
    const auto id = submit_one(s, R"({"audio_url":"https://songs.example/old.mp3"})");
    const auto job = s.wait_for(id, "completed", 30s);
    const auto recent = submit_one(s, R"({"audio_url":"https://songs.example/new.mp3"})");
    s.wait_for(recent, "completed", 30s);
    const auto busy = unfinished_job(s);
    const auto stems = files_under(s.output_dir());
    REQUIRE_FALSE(stems.empty());

    stop_serve(s);
    age_jobs(s, 40);
    {
        // The recent one is made young again.
        stemd::storage::database db(s.database());
        stemd::storage::statement young(db, "UPDATE jobs SET updated_at = ?2 WHERE id = ?1");
        young.bind(1, recent).bind(2, stemd::now_millis()).exec();
    }
    CHECK(pragma(s, "PRAGMA auto_vacuum") == 2);
    s.start_serve();

    const bool gone = wait_until([&] { return api_status(s, id) == 404; }, 20s);
    REQUIRE_MESSAGE(gone, s.serve_logs());
    CHECK(s.serve_logs().find("pruned 1 finished jobs") != std::string::npos);
    // The switch happened once, at the first start only.
    const auto logs = s.serve_logs();
    CHECK(logs.find("once with VACUUM") == logs.rfind("once with VACUUM"));
    CHECK(s.serve_logs().find("files were kept") != std::string::npos);
    CHECK(api_status(s, recent) == 200);
    CHECK(str(s.job(busy), "status") == "submitted");
    // delete_files is false by default: every stem is still there.
    CHECK(files_under(s.output_dir()) == stems);
    (void)job;
}

TEST_CASE("retention: a VACUUM that fails is a warning, and a SIGHUP while it runs is no kill") {
    stack s("retention-vacuum-fails", {.stem_bytes = 2048});
    s.start_simulator();
    s.start_serve();
    stop_serve(s);
    // Back to how an older stemd left it: auto_vacuum off.
    CHECK(pragma(s, "PRAGMA auto_vacuum=NONE; VACUUM; PRAGMA auto_vacuum") == 0);

    // A write transaction held here keeps the VACUUM from ever getting the
    // database: it fails (busy) after SQLite's wait, as it would for want
    // of disk, and the daemon is held inside it meanwhile.
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(s.database().c_str(), &raw) == SQLITE_OK);
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> holder(raw, sqlite3_close);
    REQUIRE(sqlite3_exec(raw, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);

    notify_socket n;
    serve_launch l;
    l.env["NOTIFY_SOCKET"] = n.address();
    l.wait_until_up = false;
    s.start_serve(l);
    // Sent just before the VACUUM, so a big database does not run into
    // TimeoutStartSec=.
    REQUIRE_MESSAGE(n.until("EXTEND_TIMEOUT_USEC=", 20s), s.serve_logs());
    s.serve().signal(SIGHUP);

    const auto warned = [&] {
        return s.serve_logs().find("cannot switch") != std::string::npos || !s.serve().running();
    };
    REQUIRE_MESSAGE(wait_until(warned, 20s), s.serve_logs());
    REQUIRE(sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
    holder.reset();
    REQUIRE_MESSAGE(n.until("READY=1", 20s), s.serve_logs());
    CHECK(s.serve().running());
    const auto logs = s.serve_logs();
    CHECK(logs.find("incremental vacuum") != std::string::npos);
    CHECK(logs.find("once with VACUUM") == std::string::npos);
    // It serves: a job runs to the end.
    const auto id = submit_one(s, R"({"audio_url":"https://songs.example/v.mp3"})");
    s.wait_for(id, "completed", 30s);
    stop_serve(s);
    CHECK(pragma(s, "PRAGMA auto_vacuum") == 0);
}
