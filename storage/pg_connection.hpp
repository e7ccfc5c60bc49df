#pragma once

// One PostgreSQL connection through libpq, never blocking without a bound:
// libpq runs in non-blocking mode and its socket is waited on with Asio
// (a private io_context) under a deadline, so a server that stops
// answering fails the call after `timeout` instead of hanging the thread.
// Used from one thread, like the store that owns it. Everything here throws
// pg_error; pg_store catches it at its boundary.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct pg_conn;
struct pg_result;

namespace stemd::storage::pg {

// A failure of PostgreSQL or of the way to it. The message names the
// server (host:port/db, never a password), libpq's text and what to do.
class pg_error : public std::runtime_error {
public:
    pg_error(const std::string& what, std::string sqlstate, bool connection_lost,
             bool during_commit = false)
        : std::runtime_error(what), sqlstate_(std::move(sqlstate)), lost_(connection_lost),
          during_commit_(during_commit) {}
    // The five-character SQLSTATE ("" when the failure was not the server's).
    const std::string& sqlstate() const noexcept { return sqlstate_; }
    // The connection broke (or never came up): a new one may succeed.
    bool connection_lost() const noexcept { return lost_; }
    // serialization_failure (40001) or deadlock_detected (40P01): the whole
    // transaction may be run again as it was.
    bool retryable() const noexcept { return sqlstate_ == "40001" || sqlstate_ == "40P01"; }
    // The connection broke while COMMIT was on its way: the transaction may
    // or may not have been recorded, so it must not simply be run again.
    bool during_commit() const noexcept { return during_commit_; }

private:
    std::string sqlstate_;
    bool lost_;
    bool during_commit_;
};

// libpq's text (an error message, several lines) as one line for a log.
std::string one_line(const char* libpq_text);

// The parameters of one statement ($1, $2, ...), sent as text.
class params {
public:
    params& add(std::string_view v);
    params& add(const char* v) { return add(std::string_view(v)); }
    params& add(const std::string& v) { return add(std::string_view(v)); }
    params& add(std::int64_t v);
    params& add(int v) { return add(std::int64_t{v}); }
    params& add(double v);
    params& add(bool v);
    params& add(const std::optional<std::int64_t>& v);
    params& add(const std::optional<double>& v);
    params& add_null();
    // Empty text as NULL, so that UNIQUE constraints only compare real ids.
    params& add_or_null(std::string_view v);

    int size() const noexcept { return static_cast<int>(values_.size()); }
    // For libpq: one pointer per parameter, nullptr for NULL.
    std::vector<const char*> pointers() const;

private:
    std::vector<std::optional<std::string>> values_;
};

struct result_deleter {
    void operator()(pg_result* r) const noexcept;
};

// The rows of one statement. Columns are 0-based, as in libpq.
class rows {
public:
    explicit rows(pg_result* r);

    int size() const;
    bool empty() const { return size() == 0; }
    bool is_null(int row, int column) const;
    std::string text(int row, int column) const; // "" for NULL
    std::int64_t int64(int row, int column) const;
    std::optional<std::int64_t> optional_int64(int row, int column) const;
    double real(int row, int column) const;
    std::optional<double> optional_real(int row, int column) const;
    bool boolean(int row, int column) const;
    // How many rows an INSERT, UPDATE or DELETE changed.
    std::int64_t affected() const;

private:
    std::unique_ptr<pg_result, result_deleter> result_;
};

struct connection_options {
    // A libpq connection URI or key=value string, as the user wrote it in
    // storage.database (a password in it is refused by config/).
    std::string conninfo;
    // Bound on connecting and on each statement's round trip.
    std::chrono::milliseconds timeout{10'000};
    // How long reconnect() keeps trying, with back-off, before it gives up.
    std::chrono::milliseconds reconnect_for{30'000};
    // A password file for libpq (passfile=) when not "": the systemd
    // credential $CREDENTIALS_DIRECTORY/pgpass; else libpq's own PGPASSFILE
    // or ~/.pgpass applies.
    std::string passfile;
    // Send NOTIFY on work_channel (pg_listener.hpp) when a committed
    // transaction made work runnable; off for servers without NOTIFY.
    bool notify = true;
};

struct conn_closer {
    void operator()(pg_conn* c) const noexcept;
};

class connection {
public:
    // Connects (throws pg_error with connection_lost() when it cannot).
    explicit connection(connection_options o);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    // Runs one statement with its parameters and returns its rows.
    rows exec(std::string_view sql, const params& p = {});
    // Runs statements without parameters (DDL, BEGIN ...), several at once.
    void execute(std::string_view sql);

    // True while the connection is up as far as libpq knows.
    bool healthy() const noexcept;
    // Drops the connection and connects again, with back-off, for at most
    // options().reconnect_for; throws pg_error (connection_lost) after it.
    // Once that has failed, the server counts as down: later calls fail at
    // once, trying one connection each down_retry at most, so that an
    // outage stalls the thread (and the listeners on it) once, not per call.
    void reconnect();
    static constexpr std::chrono::milliseconds down_retry{2'000};
    // "host:port/dbname" for messages (never the password).
    std::string describe() const;
    const connection_options& options() const noexcept { return options_; }

    // LISTEN channels' notifications received so far (their channel
    // names), emptied by the call.
    std::vector<std::string> take_notifications();
    // The socket, to wait on for notifications (-1 when not connected).
    int socket() const noexcept;
    // Reads what arrived on the socket without waiting (for LISTEN).
    void consume_input();

    // Marks the open transaction as one that makes work runnable (new or
    // due files, a planned look-up, an outbox event): transaction::commit()
    // then sends NOTIFY on work_channel with the COMMIT, when enabled.
    void note_work() noexcept { work_noted_ = true; }
    // Taken (and cleared) by transaction::commit().
    bool take_work_noted() noexcept { return std::exchange(work_noted_, false); }

    // The channels an outbox event is written for when a job becomes final
    // (store::set_outbox_channels): set once, read by every such write.
    void set_outbox_channels(std::vector<std::string> channels) {
        outbox_channels_ = std::move(channels);
    }
    const std::vector<std::string>& outbox_channels() const noexcept { return outbox_channels_; }

private:
    void connect();
    // Sends nothing: waits for the answer to what was sent, under `deadline`.
    pg_result* finish(std::chrono::steady_clock::time_point deadline);
    [[noreturn]] void fail_lost(const std::string& what);

    connection_options options_;
    std::unique_ptr<pg_conn, conn_closer> conn_;
    std::vector<std::string> notifications_;
    std::vector<std::string> outbox_channels_;
    bool work_noted_ = false;
    // Set while the server counts as down (see reconnect): why, and when
    // one connection may be tried again.
    std::string down_reason_;
    std::chrono::steady_clock::time_point next_try_{};
};

// BEGIN ISOLATION LEVEL SERIALIZABLE on construction, so that every
// transaction behaves as if it ran alone (as SQLite's BEGIN IMMEDIATE
// does) and a conflicting one fails with 40001 to be run again;
// ROLLBACK in the destructor unless commit() was called.
class transaction {
public:
    explicit transaction(connection& c);
    ~transaction();
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;

    void commit();

private:
    connection& c_;
    bool done_ = false;
};

} // namespace stemd::storage::pg
