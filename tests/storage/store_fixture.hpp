#pragma once

// What every test of the store interface shares: the engines it runs on,
// a fresh store per test, and builders for requests and reports. A test
// written as TEST_CASE_TEMPLATE(..., E, STORE_ENGINES) runs once per engine.

#include "storage/error.hpp"
#include "storage/store.hpp"
#include "tests/support/workspace.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stemd::storage::testing {

namespace fs = std::filesystem;

// A fresh directory, removed afterwards, and where a store keeps its file.
class temp_dir : public stemd::test::workspace {
public:
    temp_dir() : workspace("store-test") {}

    fs::path db_file() const { return path() / "state" / "jobs.db"; }
};

// One engine: opens the store kept under a directory (the same one again
// after a reopen).
struct sqlite_engine {
    static std::unique_ptr<store> open(const temp_dir& dir);
    // Adds `count` bare jobs (no files, no token) straight to the engine's
    // storage in one transaction, as fast as it goes: job i gets the id
    // "bulk-<i>", created_at(i) and status(i). For tests at scale.
    static void insert_jobs(const temp_dir& dir, int count,
                            const std::function<millis(int)>& created_at,
                            const std::function<job_status(int)>& status);
};

// The same on a fresh database of the test process's PostgreSQL cluster
// (tests/support/pg_cluster.hpp), one per temp_dir.
struct pg_engine {
    static std::unique_ptr<store> open(const temp_dir& dir);
    static void insert_jobs(const temp_dir& dir, int count,
                            const std::function<millis(int)>& created_at,
                            const std::function<job_status(int)>& status);
    // The URI of the database kept for `dir` (made on first use).
    static std::string uri(const temp_dir& dir);
};

#define STORE_ENGINES stemd::storage::testing::sqlite_engine, stemd::storage::testing::pg_engine

template <class Engine> class fixture {
public:
    fixture() : store_(Engine::open(dir_)) {}

    storage::store& store() { return *store_; }
    // Closes the store and opens it again, as a restart does.
    storage::store& reopen() {
        store_.reset();
        store_ = Engine::open(dir_);
        return *store_;
    }
    const temp_dir& dir() const { return dir_; }

private:
    temp_dir dir_;
    std::unique_ptr<storage::store> store_;
};

// The owner of the claims a test takes, another one, and a lease long
// enough never to run out within a test unless it says so.
inline constexpr std::string_view owner = "owner-a";
inline constexpr std::string_view other_owner = "owner-b";
inline constexpr millis lease = 3'600'000;

// Unwraps a result, showing the store's explanation when it failed.
template <class T> T ok(result<T> r) {
    INFO((r.has_error() ? r.error().message : std::string()));
    REQUIRE(r.has_value());
    return std::move(*r);
}
void ok(result<void> r);

// Checks the code of a failure and returns its message.
template <class T> std::string fails_with(const result<T>& r, storage::error e) {
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == e);
    CHECK_FALSE(r.error().message.empty());
    return r.error().message;
}

new_job request(std::string token_hash = "");

// A link as a report carries it, with the destination the caller chose.
struct test_link {
    musicgpt::stem_link link;
    std::string path;
};
test_link stem_link(std::string name, std::string subdir = "", std::string url = "");

// A report with the destination of each of its links.
struct delivery : musicgpt::report {
    std::vector<std::string> paths;
};
delivery success(std::vector<test_link> links, std::string task_id = "task-1");
delivery failure(std::string message);
delivery pending(std::string upstream_status);

result<job_record> apply(store& s, std::string_view job_id, const delivery& d);

// Claims one file for `owner` now (what the downloader does before it starts).
result<file_record> start(store& s, std::int64_t file_id);

// A job MusicGPT has accepted, under the given task_id.
job_record submitted_job(store& s, const std::string& task_id, const std::string& token_hash = "");

const file_record& file_named(const job_record& job, const std::string& name);

} // namespace stemd::storage::testing
