#include "storage/sqlite_store.hpp"

#include "store_fixture.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>

namespace fs = std::filesystem;
namespace storage = stemd::storage;
using namespace stemd::storage::testing;
using storage::sqlite_store;

TEST_CASE("sqlite_store: a file that is not a database is reported as an SQLite error") {
    temp_dir dir;
    fs::create_directories(dir.path() / "state");
    {
        std::ofstream out(dir.db_file(), std::ios::binary);
        out << std::string(4096, 'z');
    }
    const auto why = fails_with(sqlite_store::open(dir.db_file()), storage::error::sqlite);
    CHECK(why.find("not a database") != std::string::npos);
    CHECK(why.find(dir.db_file().filename().string()) != std::string::npos);
}

TEST_CASE("sqlite_store: a directory that cannot be created is reported with its path") {
    temp_dir dir;
    {
        std::ofstream out(dir.path() / "state", std::ios::binary);
        out << "a file where the directory should be";
    }
    const auto why = fails_with(sqlite_store::open(dir.db_file()), storage::error::sqlite);
    CHECK(why.find((dir.path() / "state").string()) != std::string::npos);
}

TEST_CASE("sqlite_store: a moved store keeps working") {
    temp_dir dir;
    auto store = ok(sqlite_store::open(dir.db_file()));
    auto job = ok(store.create_job(request()));
    sqlite_store moved = std::move(store);
    CHECK(ok(moved.find(job.id)).id == job.id);
}

TEST_CASE("sqlite_store: a database without auto_vacuum is switched to incremental once") {
    temp_dir dir;
    fs::create_directories(dir.path() / "state");
    const auto pragma = [&](const char* text) {
        sqlite3* raw = nullptr;
        REQUIRE(sqlite3_open(dir.db_file().c_str(), &raw) == SQLITE_OK);
        std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, sqlite3_close);
        sqlite3_stmt* stmt = nullptr;
        REQUIRE(sqlite3_prepare_v2(raw, text, -1, &stmt, nullptr) == SQLITE_OK);
        std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> s(stmt, sqlite3_finalize);
        const int rc = sqlite3_step(stmt);
        REQUIRE((rc == SQLITE_ROW || rc == SQLITE_DONE));
        return rc == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
    };
    // What an older stemd made: auto_vacuum NONE, a table already there.
    pragma("CREATE TABLE older (x)");
    CHECK(pragma("PRAGMA auto_vacuum") == 0);
    {
        auto store = ok(sqlite_store::open(dir.db_file()));
        CHECK(pragma("PRAGMA auto_vacuum") == 0);
        auto job = ok(store.create_job(request()));
        CHECK(ok(store.use_incremental_vacuum()));
        CHECK_FALSE(ok(store.use_incremental_vacuum()));
        CHECK(ok(store.find(job.id)).id == job.id);
    }
    CHECK(pragma("PRAGMA auto_vacuum") == 2);
    auto again = ok(sqlite_store::open(dir.db_file()));
    CHECK_FALSE(ok(again.use_incremental_vacuum()));
}

TEST_CASE("sqlite_store: a new database is incremental from the start") {
    temp_dir dir;
    auto store = ok(sqlite_store::open(dir.db_file()));
    CHECK_FALSE(ok(store.use_incremental_vacuum()));
}
