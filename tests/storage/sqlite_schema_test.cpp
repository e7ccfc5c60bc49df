#include "storage/sqlite_schema.hpp"

#include "storage/database.hpp"
#include "storage/sqlite_store.hpp"
#include "store_fixture.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <optional>
#include <string>

namespace fs = std::filesystem;
namespace storage = stemd::storage;
using namespace stemd::storage::testing;
using storage::file_status;
using storage::job_status;
using storage::sqlite_store;

namespace {

// The schema stemd 0.1 wrote (version 1).
constexpr const char* schema_v1 = R"sql(
CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL, task_id TEXT UNIQUE, conversion_id TEXT UNIQUE,
    token_hash TEXT UNIQUE,
    status TEXT NOT NULL
        CHECK (status IN ('submitting', 'submitted', 'downloading', 'completed', 'failed')),
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, eta REAL, credit_estimate REAL,
    conversion_cost REAL, conversion_duration REAL, error TEXT NOT NULL DEFAULT '',
    upstream_status TEXT NOT NULL DEFAULT '', audio_url TEXT NOT NULL DEFAULT '',
    audio_file TEXT NOT NULL DEFAULT '', stems_json TEXT NOT NULL DEFAULT '',
    preprocessing_options_json TEXT NOT NULL DEFAULT '',
    eco_mode INTEGER NOT NULL DEFAULT 0 CHECK (eco_mode IN (0, 1))
);
CREATE INDEX jobs_by_created ON jobs (created_at);
CREATE INDEX jobs_by_status ON jobs (status, created_at);
CREATE TABLE files (
    id INTEGER PRIMARY KEY, job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    name TEXT NOT NULL, subdir TEXT NOT NULL DEFAULT '', url TEXT NOT NULL, path TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'downloading', 'done', 'failed')),
    bytes INTEGER NOT NULL DEFAULT 0, sha256 TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '',
    next_attempt_at INTEGER NOT NULL DEFAULT 0, UNIQUE (job_id, subdir, name)
);
CREATE INDEX files_runnable ON files (status, next_attempt_at);
)sql";

// What version 2 added.
constexpr const char* schema_v2 = R"sql(
ALTER TABLE jobs ADD COLUMN next_poll_at INTEGER;
ALTER TABLE jobs ADD COLUMN poll_attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_by_next_poll ON jobs (next_poll_at) WHERE next_poll_at IS NOT NULL;
CREATE TABLE webhook_deliveries (id TEXT PRIMARY KEY NOT NULL, received_at INTEGER NOT NULL);
CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries (received_at);
)sql";

// What versions 3 and 4 added.
constexpr const char* schema_v3_v4 = R"sql(
ALTER TABLE files ADD COLUMN claim_owner TEXT;
ALTER TABLE files ADD COLUMN claim_until INTEGER;
ALTER TABLE jobs ADD COLUMN poll_owner TEXT;
ALTER TABLE jobs ADD COLUMN poll_until INTEGER;
CREATE INDEX files_by_path ON files (path);
CREATE INDEX files_by_claim_owner ON files (claim_owner) WHERE claim_owner IS NOT NULL;
CREATE INDEX jobs_by_poll_owner ON jobs (poll_owner) WHERE poll_owner IS NOT NULL;
ALTER TABLE files ADD COLUMN link_refreshes INTEGER NOT NULL DEFAULT 0;
)sql";

sqlite_store open_store(const fs::path& file) {
    return ok(sqlite_store::open(file));
}

} // namespace

TEST_CASE("sqlite_schema: opening creates the schema at the current version, 7") {
    temp_dir dir;
    CHECK(storage::sqlite::schema_version() == 7);
    { auto store = open_store(dir.db_file()); }
    CHECK(fs::exists(dir.db_file()));
    storage::database db(dir.db_file());
    CHECK(db.user_version() == 7);
    // Migrating an up-to-date database changes nothing.
    ok(storage::sqlite::migrate(db, dir.db_file()));
    CHECK(db.user_version() == 7);
}

TEST_CASE("sqlite_schema: a version 1 database is migrated and keeps its jobs") {
    temp_dir dir;
    const storage::millis then = storage::now_millis() - 60'000;
    {
        // A job waiting for its webhook and one downloading.
        storage::database db(dir.db_file());
        db.execute(schema_v1);
        const auto t = std::to_string(then);
        db.execute("INSERT INTO jobs (id, task_id, status, created_at, updated_at) VALUES "
                   "('jwaiting', 'task-w', 'submitted', " +
                   t + ", " + t +
                   "), "
                   "('jloading', 'task-l', 'downloading', " +
                   t + ", " + t + ")");
        db.execute("INSERT INTO files (job_id, name, url, path, status) VALUES "
                   "('jloading', 'vocals', 'https://cdn.example.com/v', '/srv/v.wav', "
                   "'pending')");
        db.set_user_version(1);
    }
    auto store = open_store(dir.db_file());
    {
        storage::database db(dir.db_file());
        CHECK(db.user_version() == storage::sqlite::schema_version());
    }
    auto waiting = ok(store.find("task-w"));
    CHECK(waiting.status == job_status::submitted);
    // Looked up at the first start: its webhook may have been lost.
    CHECK(waiting.next_poll_at == std::optional<storage::millis>(then));
    CHECK(waiting.poll_attempts == 0);
    auto loading = ok(store.find("jloading"));
    CHECK_FALSE(loading.next_poll_at.has_value());
    REQUIRE(loading.files.size() == 1);
    CHECK(loading.files[0].url == "https://cdn.example.com/v");
    // v6: the outbox exists and a job from before has no events in it.
    CHECK(loading.notifications.empty());
    CHECK(ok(store.notifications(std::nullopt, 10)).empty());

    auto due = ok(store.jobs_due_for_poll(storage::now_millis(), 10));
    REQUIRE(due.size() == 1);
    CHECK(due[0].id == "jwaiting");
    CHECK(ok(store.remember_delivery("msg-1", storage::now_millis())));
    // Reopening does not migrate again.
    { auto again = open_store(dir.db_file()); }
    CHECK(ok(store.find("jwaiting")).next_poll_at == std::optional<storage::millis>(then));
}

TEST_CASE("sqlite_schema: a version 2 database gains claims, and its work is free to claim") {
    temp_dir dir;
    const storage::millis then = storage::now_millis() - 60'000;
    {
        // A stemd 0.2 that died downloading a file and with a look-up due.
        storage::database db(dir.db_file());
        db.execute(schema_v1);
        db.execute(schema_v2);
        const auto t = std::to_string(then);
        db.execute("INSERT INTO jobs (id, task_id, status, created_at, updated_at, next_poll_at) "
                   "VALUES ('jloading', 'task-l', 'downloading', " +
                   t + ", " + t +
                   ", NULL), "
                   "('jpolled', 'task-p', 'submitted', " +
                   t + ", " + t + ", " + t + ")");
        db.execute("INSERT INTO files (job_id, name, url, path, status, attempts) VALUES "
                   "('jloading', 'vocals', 'https://cdn.example.com/v', '/srv/v.wav', "
                   "'downloading', 1)");
        db.execute("INSERT INTO webhook_deliveries (id, received_at) VALUES ('msg-0', " + t + ")");
        db.set_user_version(2);
    }
    auto store = open_store(dir.db_file());
    {
        storage::database db(dir.db_file());
        CHECK(db.user_version() == 7);
    }
    auto loading = ok(store.find("jloading"));
    REQUIRE(loading.files.size() == 1);
    CHECK(loading.files[0].status == file_status::downloading);
    CHECK(loading.files[0].claim_owner.empty());
    CHECK_FALSE(ok(store.remember_delivery("msg-0", storage::now_millis())));

    const auto now = storage::now_millis();
    auto files = ok(store.claim_files(owner, now, lease, 10));
    REQUIRE(files.size() == 1);
    CHECK(files[0].attempts == 2);
    CHECK(files[0].claim_owner == owner);
    CHECK(files[0].claim_until == now + lease);
    auto polls = ok(store.claim_polls(owner, now, lease, 10));
    REQUIRE(polls.size() == 1);
    CHECK(polls[0].id == "jpolled");
    CHECK(polls[0].poll_owner == owner);
}

TEST_CASE("sqlite_schema: a version 4 database gains events, and its jobs start with none") {
    temp_dir dir;
    const storage::millis then = storage::now_millis() - 60'000;
    {
        storage::database db(dir.db_file());
        db.execute(schema_v1);
        db.execute(schema_v2);
        db.execute(schema_v3_v4);
        const auto t = std::to_string(then);
        db.execute("INSERT INTO jobs (id, task_id, status, created_at, updated_at) VALUES "
                   "('jold', 'task-o', 'completed', " +
                   t + ", " + t + ")");
        db.execute("INSERT INTO files (job_id, name, url, path, status, bytes, link_refreshes) "
                   "VALUES ('jold', 'vocals', 'https://cdn.example.com/v', '/srv/v.wav', 'done', "
                   "10, 1)");
        db.set_user_version(4);
    }
    auto store = open_store(dir.db_file());
    {
        storage::database db(dir.db_file());
        CHECK(db.user_version() == 7);
    }
    auto old = ok(store.find("jold"));
    CHECK(old.status == job_status::completed);
    REQUIRE(old.files.size() == 1);
    CHECK(old.files[0].link_refreshes == 1);
    CHECK(ok(store.events("jold", 10)).empty());
    ok(store.append_event({"jold", then, "retry", "", "by the user"}));
    auto got = ok(store.events("jold", 10));
    REQUIRE(got.size() == 1);
    CHECK(got[0].kind == "retry");

    // The newest event deleted (pruning), the next one still gets a new id.
    {
        storage::database db(dir.db_file());
        db.execute("DELETE FROM events");
    }
    ok(store.append_event({"jold", then, "retry", "", "again"}));
    got = ok(store.events("jold", 10));
    REQUIRE(got.size() == 1);
    CHECK(got[0].id > 1);
}

TEST_CASE("sqlite_schema: a version 6 database gains budgets, which start full") {
    temp_dir dir;
    { auto store = open_store(dir.db_file()); }
    {
        // Version 6 is version 7 without the budgets table.
        storage::database db(dir.db_file());
        db.execute("DROP TABLE budgets");
        db.set_user_version(6);
    }
    auto store = open_store(dir.db_file());
    {
        storage::database db(dir.db_file());
        CHECK(db.user_version() == 7);
    }
    const auto t = storage::now_millis();
    CHECK(ok(store.take_budget("byId", t, 2, 1)).granted);
    CHECK(ok(store.take_budget("byId", t, 2, 1)).granted);
    const auto refused = ok(store.take_budget("byId", t, 2, 1));
    CHECK_FALSE(refused.granted);
    CHECK(refused.retry_at == t + 1000);
}

TEST_CASE("sqlite_schema: a database from a newer stemd is refused") {
    temp_dir dir;
    {
        storage::database db(dir.db_file());
        db.set_user_version(99);
    }
    const auto why = fails_with(sqlite_store::open(dir.db_file()), storage::error::newer_schema);
    CHECK(why.find("99") != std::string::npos);
    CHECK(why.find("up to 7") != std::string::npos);
    CHECK(why.find("upgrade stemd") != std::string::npos);
    CHECK(why.find(dir.db_file().string()) != std::string::npos);
}
