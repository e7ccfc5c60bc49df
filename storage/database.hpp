#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace stemd::storage {

// Thrown by check() for any SQLite result code other than OK/ROW/DONE.
// sqlite_store catches it at its boundary and turns it into error::sqlite
// with this message, so callers above storage/ only ever see stemd::result.
class sqlite_error : public std::runtime_error {
public:
    sqlite_error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
    int code() const noexcept { return code_; }

private:
    int code_;
};

struct connection_closer {
    void operator()(sqlite3* db) const noexcept;
};
struct statement_finalizer {
    void operator()(sqlite3_stmt* s) const noexcept;
};

class database;

// A prepared statement. Bind with 1-based indexes, step() until it returns
// false, read columns with 0-based indexes.
class statement {
public:
    statement(database& db, std::string_view sql);

    statement& bind(int index, std::int64_t value);
    // Without this overload a plain int (or bool) would be ambiguous between
    // the int64 and double ones.
    statement& bind(int index, int value) { return bind(index, std::int64_t{value}); }
    statement& bind(int index, double value);
    statement& bind(int index, std::string_view value);
    statement& bind(int index, const std::optional<double>& value);
    statement& bind_null(int index);

    // True while a row is available; false when done.
    bool step();
    // step() for statements that return no rows.
    void exec();
    void reset();

    bool is_null(int column) const;
    std::int64_t column_int(int column) const;
    double column_double(int column) const;
    std::optional<double> column_optional_double(int column) const;
    std::string column_text(int column) const;

private:
    database* db_;
    std::unique_ptr<sqlite3_stmt, statement_finalizer> stmt_;
};

// One SQLite connection, used from one thread only. Opened in WAL mode with
// synchronous=FULL so that a committed transaction survives power loss, a
// busy timeout, and foreign keys on.
class database {
public:
    // Creates missing parent directories, and a missing database file with
    // mode 0600 (its -wal and -shm files inherit it). Throws sqlite_error
    // when the file cannot be opened or does not support WAL.
    explicit database(const std::filesystem::path& file);

    database(const database&) = delete;
    database& operator=(const database&) = delete;
    database(database&&) noexcept = default;
    database& operator=(database&&) noexcept = default;

    void execute(std::string_view sql);
    int user_version();
    void set_user_version(int v);
    std::int64_t last_insert_rowid() const;
    int changes() const;

    sqlite3* handle() const noexcept { return db_.get(); }

    // The channels an outbox event is written for when a job becomes final
    // (store::set_outbox_channels): set once, read by every such write.
    void set_outbox_channels(std::vector<std::string> channels) {
        outbox_channels_ = std::move(channels);
    }
    const std::vector<std::string>& outbox_channels() const noexcept { return outbox_channels_; }
    // Turns a result code into an exception carrying SQLite's message.
    void check(int rc) const;

private:
    std::unique_ptr<sqlite3, connection_closer> db_;
    std::vector<std::string> outbox_channels_;
};

// BEGIN IMMEDIATE on construction (take the write lock up front so two
// writers never deadlock on upgrade), ROLLBACK in the destructor unless
// commit() was called.
class transaction {
public:
    explicit transaction(database& db);
    ~transaction();
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;

    void commit();

private:
    database& db_;
    bool done_ = false;
};

} // namespace stemd::storage
