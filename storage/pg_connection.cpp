#include "storage/pg_connection.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace stemd::storage::pg {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

// ---- waiting on libpq's socket ---------------------------------------------

namespace {

// One private loop per thread: a connection is used from one thread, and
// waiting on it must not run anybody else's handlers.
asio::io_context& private_loop() {
    thread_local asio::io_context io;
    return io;
}

// Waits until `fd` is readable (or writable) or `deadline` passes; false on
// the deadline. libpq owns the descriptor, so it is released, never closed.
bool wait_socket(int fd, bool for_write, clock::time_point deadline) {
    auto& io = private_loop();
    io.restart();
    asio::posix::stream_descriptor sd(io, fd);
    asio::steady_timer timer(io, deadline);
    bool ready = false;
    sd.async_wait(for_write ? asio::posix::descriptor_base::wait_write
                            : asio::posix::descriptor_base::wait_read,
                  [&](const boost::system::error_code& ec) {
                      ready = !ec;
                      timer.cancel();
                  });
    timer.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) {
            sd.cancel();
        }
    });
    io.run();
    sd.release();
    return ready;
}

// libpq prints the server's notices to stderr unless told otherwise; they
// say things like "relation already exists, skipping", not worth a line.
void ignore_notice(void*, const char*) {}

std::string millis_text(std::chrono::milliseconds d) {
    return std::to_string(d.count()) + " ms";
}

} // namespace

std::string one_line(const char* libpq_text) {
    std::string out;
    bool space = false;
    for (const char* p = libpq_text ? libpq_text : ""; *p != '\0'; ++p) {
        const bool blank = *p == '\n' || *p == '\t' || *p == ' ' || *p == '\r';
        if (blank) {
            space = !out.empty();
            continue;
        }
        if (space) {
            out += ' ';
            space = false;
        }
        out += *p;
    }
    return out;
}

void conn_closer::operator()(pg_conn* c) const noexcept {
    PQfinish(c);
}

// ---- connection --------------------------------------------------------------

connection::connection(connection_options o) : options_(std::move(o)) {
    connect();
}

connection::~connection() = default;

std::string connection::describe() const {
    std::string host;
    std::string port;
    std::string db;
    if (conn_) {
        host = PQhost(conn_.get()) ? PQhost(conn_.get()) : "";
        port = PQport(conn_.get()) ? PQport(conn_.get()) : "";
        db = PQdb(conn_.get()) ? PQdb(conn_.get()) : "";
    } else if (PQconninfoOption* opts = PQconninfoParse(options_.conninfo.c_str(), nullptr)) {
        for (auto* o = opts; o->keyword; ++o) {
            std::string_view k = o->keyword;
            std::string v = o->val ? o->val : "";
            if (k == "host" || (k == "hostaddr" && host.empty())) {
                host = v;
            } else if (k == "port") {
                port = v;
            } else if (k == "dbname") {
                db = v;
            }
        }
        PQconninfoFree(opts);
    }
    return (host.empty() ? "localhost" : host) + ":" + (port.empty() ? "5432" : port) + "/" + db;
}

namespace {

pg_error lost_error(const std::string& where, const std::string& what, const std::string& todo) {
    return pg_error("PostgreSQL at " + where + ": " + what + "; " + todo, "", true);
}

} // namespace

void connection::connect() {
    conn_.reset();
    const auto deadline = clock::now() + options_.timeout;
    // Fallbacks before dbname: what the URI itself says wins.
    std::vector<const char*> keys{"application_name"};
    std::vector<const char*> values{"stemd"};
    if (!options_.passfile.empty()) {
        keys.push_back("passfile");
        values.push_back(options_.passfile.c_str());
    }
    keys.push_back("dbname");
    values.push_back(options_.conninfo.c_str());
    keys.push_back(nullptr);
    values.push_back(nullptr);
    conn_.reset(PQconnectStartParams(keys.data(), values.data(), 1));
    const std::string todo = "check that the server runs and storage.database is right";
    if (!conn_) {
        throw lost_error(describe(), "out of memory while connecting", todo);
    }
    for (;;) {
        if (PQstatus(conn_.get()) == CONNECTION_BAD) {
            const std::string where = describe();
            const std::string text = one_line(PQerrorMessage(conn_.get()));
            conn_.reset();
            throw lost_error(where, "cannot connect: " + text, todo);
        }
        const auto step = PQconnectPoll(conn_.get());
        if (step == PGRES_POLLING_OK) {
            break;
        }
        if (step == PGRES_POLLING_FAILED) {
            continue; // reported above with libpq's text
        }
        if (!wait_socket(PQsocket(conn_.get()), step == PGRES_POLLING_WRITING, deadline)) {
            const std::string where = describe();
            conn_.reset();
            throw lost_error(where, "no answer within " + millis_text(options_.timeout), todo);
        }
    }
    PQsetNoticeProcessor(conn_.get(), ignore_notice, nullptr);
    if (PQsetnonblocking(conn_.get(), 1) != 0) {
        const std::string where = describe();
        conn_.reset();
        throw lost_error(where, "cannot switch to non-blocking mode", todo);
    }
    // The server gives up on what this side stopped waiting for (a second
    // later, so that this side's deadline always comes first and the
    // outcome does not depend on which one wins); and a transaction left
    // open by a process that hangs holds no row for long.
    execute("SET statement_timeout = " + std::to_string(options_.timeout.count() + 1000) +
            "; SET idle_in_transaction_session_timeout = " +
            std::to_string(options_.timeout.count() * 6));
}

bool connection::healthy() const noexcept {
    return conn_ && PQstatus(conn_.get()) == CONNECTION_OK;
}

void connection::reconnect() {
    if (!down_reason_.empty()) {
        if (clock::now() < next_try_)
            throw pg_error(down_reason_ + "; the next attempt is within " + millis_text(down_retry),
                           "", true);
        try {
            connect();
            down_reason_.clear();
            return;
        } catch (const pg_error& e) {
            down_reason_ = e.what();
            next_try_ = clock::now() + down_retry;
            throw;
        }
    }
    const auto give_up = clock::now() + options_.reconnect_for;
    auto pause = std::chrono::milliseconds(100);
    for (;;) {
        try {
            connect();
            return;
        } catch (const pg_error& e) {
            if (clock::now() + pause >= give_up) {
                down_reason_ = std::string(e.what()) + " (gave up reconnecting after " +
                               millis_text(options_.reconnect_for) + ")";
                next_try_ = clock::now() + down_retry;
                throw pg_error(down_reason_, "", true);
            }
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(2'000));
    }
}

int connection::socket() const noexcept {
    return conn_ ? PQsocket(conn_.get()) : -1;
}

void connection::consume_input() {
    if (!healthy() || PQconsumeInput(conn_.get()) == 0) {
        const std::string text = conn_ ? one_line(PQerrorMessage(conn_.get())) : "not connected";
        throw lost_error(describe(), "connection lost: " + text, "it is retried");
    }
}

std::vector<std::string> connection::take_notifications() {
    if (conn_) {
        while (PGnotify* n = PQnotifies(conn_.get())) {
            notifications_.emplace_back(n->relname);
            PQfreemem(n);
        }
    }
    return std::exchange(notifications_, {});
}

[[noreturn]] void connection::fail_lost(const std::string& what) {
    const std::string where = describe();
    const std::string text = conn_ ? one_line(PQerrorMessage(conn_.get())) : "";
    conn_.reset();
    throw lost_error(where, what + (text.empty() ? "" : ": " + text),
                     "check that the server runs; stemd reconnects");
}

namespace {

// The failure a statement's result reports, with its SQLSTATE.
pg_error statement_error(PGconn* c, PGresult* r, const std::string& where) {
    const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const bool lost = PQstatus(c) != CONNECTION_OK;
    std::string text = one_line(PQresultErrorMessage(r));
    return pg_error("PostgreSQL at " + where + " refused a statement: " + text +
                        (lost ? "; the connection is lost, stemd reconnects"
                              : "; see the server's log for more"),
                    state ? state : "", lost);
}

} // namespace

pg_result* connection::finish(clock::time_point deadline) {
    PGconn* c = conn_.get();
    // Until everything sent has left (non-blocking mode keeps it buffered).
    for (int left = PQflush(c); left != 0; left = PQflush(c)) {
        if (left < 0) {
            fail_lost("the connection broke while sending");
        }
        if (!wait_socket(PQsocket(c), true, deadline)) {
            fail_lost("no room to send within " + millis_text(options_.timeout));
        }
    }
    std::unique_ptr<pg_result, result_deleter> kept;
    std::optional<pg_error> failed;
    for (;;) {
        while (PQisBusy(c) != 0) {
            if (!wait_socket(PQsocket(c), false, deadline)) {
                // Drop the connection: its state is unknown and the next
                // call reconnects. No PQcancel: it connects and waits with
                // no deadline of its own, on this thread, to a server that
                // may be gone; the session's statement_timeout (set in
                // connect) stops the server's work instead.
                fail_lost("no answer within " + millis_text(options_.timeout));
            }
            if (PQconsumeInput(c) == 0) {
                fail_lost("the connection broke");
            }
        }
        PGresult* r = PQgetResult(c);
        if (r == nullptr) {
            break;
        }
        const auto status = PQresultStatus(r);
        if ((status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE) && !failed) {
            failed = statement_error(c, r, describe());
        }
        kept.reset(r);
    }
    while (PGnotify* n = PQnotifies(c)) {
        notifications_.emplace_back(n->relname);
        PQfreemem(n);
    }
    if (failed) {
        if (failed->connection_lost()) {
            conn_.reset();
        }
        throw *failed;
    }
    return kept.release();
}

rows connection::exec(std::string_view sql, const params& p) {
    if (!healthy()) {
        fail_lost("not connected");
    }
    const auto deadline = clock::now() + options_.timeout;
    const std::string text(sql);
    const auto values = p.pointers();
    if (PQsendQueryParams(conn_.get(), text.c_str(), p.size(), nullptr, values.data(), nullptr,
                          nullptr, 0) == 0) {
        fail_lost("cannot send a statement");
    }
    return rows(finish(deadline));
}

void connection::execute(std::string_view sql) {
    if (!healthy()) {
        fail_lost("not connected");
    }
    const auto deadline = clock::now() + options_.timeout;
    const std::string text(sql);
    if (PQsendQuery(conn_.get(), text.c_str()) == 0) {
        fail_lost("cannot send a statement");
    }
    rows(finish(deadline));
}

// ---- transaction -------------------------------------------------------------

transaction::transaction(connection& c) : c_(c) {
    c_.take_work_noted(); // a body run again notes its work again
    c_.execute("BEGIN ISOLATION LEVEL SERIALIZABLE");
}

transaction::~transaction() {
    if (done_ || !c_.healthy()) {
        return;
    }
    try {
        c_.execute("ROLLBACK");
    } catch (const pg_error&) {
        // The connection is dropped by then; the server rolls back.
    }
}

void transaction::commit() {
    const bool notify = c_.take_work_noted() && c_.options().notify;
    done_ = true;
    try {
        c_.execute("COMMIT");
    } catch (const pg_error& e) {
        if (e.connection_lost()) {
            throw pg_error(e.what(), e.sqlstate(), true, true);
        }
        throw;
    }
    // After the COMMIT, on its own: NOTIFY is only a hint (every instance
    // polls too), so a refused one (a full notification queue, a server
    // without NOTIFY) must not undo the change it is about.
    if (notify) {
        try {
            c_.execute("NOTIFY stemd_work");
        } catch (const pg_error&) {
        }
    }
}

} // namespace stemd::storage::pg
