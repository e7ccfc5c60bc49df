#include "storage/sqlite_store.hpp"

#include "store_fixture.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
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
