#include "storage/database.hpp"

#include "tests/support/workspace.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <sys/stat.h>

namespace fs = std::filesystem;
using stemd::storage::database;
using stemd::storage::sqlite_error;
using stemd::storage::statement;
using stemd::storage::transaction;

namespace {

using stemd::test::workspace;

std::int64_t count_rows(database& db, const std::string& table) {
    statement s(db, "SELECT COUNT(*) FROM " + table);
    REQUIRE(s.step());
    return s.column_int(0);
}

std::string pragma_text(database& db, const std::string& name) {
    statement s(db, "PRAGMA " + name);
    REQUIRE(s.step());
    return s.column_text(0);
}

} // namespace

TEST_CASE("database: opening creates missing parent directories and the file") {
    workspace dir("database-test");
    const auto file = dir.path() / "a" / "b" / "jobs.db";
    {
        database db(file);
        CHECK(db.handle() != nullptr);
        db.execute("CREATE TABLE t (v INTEGER)");
    }
    CHECK(fs::exists(file));
}

TEST_CASE("database: a new database and its -wal and -shm files are 0600 whatever the umask") {
    workspace dir("database-mode");
    const auto file = dir.path() / "jobs.db";
    // With no umask at all SQLite's own default would make them 0644.
    const ::mode_t old_umask = ::umask(0);
    {
        database db(file);
        db.execute("CREATE TABLE t (x INTEGER)");
        db.execute("INSERT INTO t VALUES (1)");
        for (const char* suffix : {"", "-wal", "-shm"}) {
            const fs::path f = file.string() + suffix;
            REQUIRE_MESSAGE(fs::exists(f), f);
            CHECK_MESSAGE((fs::status(f).permissions() & fs::perms::mask) == fs::perms(0600), f);
        }
    }
    ::umask(old_umask);
}

TEST_CASE("database: an existing database keeps its mode") {
    workspace dir("database-mode-kept");
    const auto file = dir.path() / "jobs.db";
    { database db(file); }
    fs::permissions(file, fs::perms(0640));
    { database db(file); }
    CHECK((fs::status(file).permissions() & fs::perms::mask) == fs::perms(0640));
}

TEST_CASE("database: WAL, synchronous FULL, busy timeout and foreign keys are on") {
    workspace dir("database-test");
    database db(dir.path() / "jobs.db");
    CHECK(pragma_text(db, "journal_mode") == "wal");
    CHECK(pragma_text(db, "synchronous") == "2"); // FULL
    CHECK(pragma_text(db, "foreign_keys") == "1");
    CHECK(pragma_text(db, "busy_timeout") == "5000");
}

TEST_CASE("database: a transaction not committed is rolled back by its destructor") {
    workspace dir("database-test");
    database db(dir.path() / "jobs.db");
    db.execute("CREATE TABLE t (v INTEGER)");
    {
        transaction tx(db);
        statement(db, "INSERT INTO t (v) VALUES (1)").exec();
        CHECK(count_rows(db, "t") == 1);
    }
    CHECK(count_rows(db, "t") == 0);
    // The connection is usable again: no transaction was left open.
    CHECK(sqlite3_get_autocommit(db.handle()) != 0);
}

TEST_CASE("database: a committed transaction survives closing and reopening") {
    workspace dir("database-test");
    const auto file = dir.path() / "jobs.db";
    {
        database db(file);
        db.execute("CREATE TABLE t (v INTEGER)");
        transaction tx(db);
        statement(db, "INSERT INTO t (v) VALUES (7)").exec();
        tx.commit();
    }
    database db(file);
    statement s(db, "SELECT v FROM t");
    REQUIRE(s.step());
    CHECK(s.column_int(0) == 7);
    CHECK_FALSE(s.step());
}

TEST_CASE("database: a transaction that hit an error is rolled back cleanly") {
    workspace dir("database-test");
    database db(dir.path() / "jobs.db");
    db.execute("CREATE TABLE t (v INTEGER UNIQUE)");
    try {
        transaction tx(db);
        statement(db, "INSERT INTO t (v) VALUES (1)").exec();
        statement(db, "INSERT INTO t (v) VALUES (1)").exec();
        tx.commit();
        FAIL("the duplicate insert should have thrown");
    } catch (const sqlite_error& e) {
        CHECK((e.code() & 0xff) == SQLITE_CONSTRAINT);
        CHECK(std::string(e.what()).find("UNIQUE constraint failed") != std::string::npos);
    }
    CHECK(count_rows(db, "t") == 0);
}

TEST_CASE("database: check() throws sqlite_error with SQLite's message and the file") {
    workspace dir("database-test");
    const auto file = dir.path() / "jobs.db";
    database db(file);

    SUBCASE("bad SQL in a statement") {
        try {
            statement s(db, "SELEC nothing");
            FAIL("preparing bad SQL should have thrown");
        } catch (const sqlite_error& e) {
            CHECK(e.code() == SQLITE_ERROR);
            const std::string what = e.what();
            CHECK(what.find("syntax error") != std::string::npos);
            CHECK(what.find(file.filename().string()) != std::string::npos);
        }
    }
    SUBCASE("bad SQL in execute") {
        CHECK_THROWS_AS(db.execute("CREATE TABLE"), sqlite_error);
    }
    SUBCASE("a missing table") {
        CHECK_THROWS_WITH_AS(statement(db, "SELECT * FROM nowhere"),
                             doctest::Contains("no such table: nowhere"), sqlite_error);
    }
    SUBCASE("success codes do not throw") {
        CHECK_NOTHROW(db.check(SQLITE_OK));
        CHECK_NOTHROW(db.check(SQLITE_ROW));
        CHECK_NOTHROW(db.check(SQLITE_DONE));
        CHECK_THROWS_AS(db.check(SQLITE_FULL), sqlite_error);
    }
}

TEST_CASE("database: a file that is not a database is refused with a hint") {
    workspace dir("database-test");
    const auto file = dir.path() / "jobs.db";
    {
        std::ofstream out(file, std::ios::binary);
        out << std::string(4096, 'x');
    }
    try {
        database db(file);
        FAIL("opening garbage should have thrown");
    } catch (const sqlite_error& e) {
        CHECK(e.code() == SQLITE_NOTADB);
        CHECK(std::string(e.what()).find("move it aside") != std::string::npos);
    }
}

TEST_CASE("database: BEGIN IMMEDIATE takes the write lock up front") {
    workspace dir("database-test");
    const auto file = dir.path() / "jobs.db";
    database first(file);
    first.execute("CREATE TABLE t (v INTEGER)");
    database second(file);
    // Fail at once instead of waiting out the busy timeout.
    REQUIRE(sqlite3_busy_timeout(second.handle(), 0) == SQLITE_OK);

    transaction held(first);
    try {
        transaction blocked(second);
        FAIL("a second writer should have been refused");
    } catch (const sqlite_error& e) {
        CHECK((e.code() & 0xff) == SQLITE_BUSY);
        CHECK(std::string(e.what()).find("only one stemd") != std::string::npos);
    }
    held.commit();
    CHECK_NOTHROW(transaction(second).commit());
}

TEST_CASE("database: statements bind and read every type") {
    workspace dir("database-test");
    database db(dir.path() / "jobs.db");
    db.execute("CREATE TABLE t (i INTEGER, d REAL, s TEXT, o REAL, e TEXT)");
    statement insert(db, "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)");
    insert.bind(1, std::int64_t{1} << 40).bind(2, 2.5).bind(3, std::string_view("h\u00e9llo"));
    insert.bind(4, std::optional<double>()).bind(5, std::string_view());
    insert.exec();
    CHECK(db.changes() == 1);
    CHECK(db.last_insert_rowid() == 1);

    insert.reset();
    insert.bind(1, 3).bind(2, 0.0).bind(3, std::string_view("x")).bind(4, std::optional(1.5));
    insert.bind_null(5).exec();
    CHECK(db.last_insert_rowid() == 2);

    statement select(db, "SELECT i, d, s, o, e FROM t ORDER BY rowid");
    REQUIRE(select.step());
    CHECK(select.column_int(0) == (std::int64_t{1} << 40));
    CHECK(select.column_double(1) == 2.5);
    CHECK(select.column_text(2) == "h\u00e9llo");
    CHECK(select.is_null(3));
    CHECK_FALSE(select.column_optional_double(3).has_value());
    // An empty view is an empty string, not NULL.
    CHECK_FALSE(select.is_null(4));
    CHECK(select.column_text(4).empty());

    REQUIRE(select.step());
    CHECK(select.column_int(0) == 3);
    CHECK(select.column_optional_double(3) == std::optional(1.5));
    CHECK(select.is_null(4));
    CHECK(select.column_text(4).empty());
    CHECK_FALSE(select.step());
}

TEST_CASE("database: user_version is read and written") {
    workspace dir("database-test");
    const auto file = dir.path() / "jobs.db";
    {
        database db(file);
        CHECK(db.user_version() == 0);
        db.set_user_version(42);
        CHECK(db.user_version() == 42);
    }
    database db(file);
    CHECK(db.user_version() == 42);
}
