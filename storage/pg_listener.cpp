#include "storage/pg_listener.hpp"

#include "common/log.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace stemd::storage::pg {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace {

using descriptor = asio::posix::stream_descriptor;

// libpq owns the socket: the descriptor only borrows it, and gives it back
// before libpq closes it (or moves to another one while connecting).
struct borrowed {
    descriptor& sd;
    ~borrowed() {
        if (sd.is_open()) {
            sd.release();
        }
    }
};

pg_error lost(PGconn* c, const std::string& what) {
    const std::string text = c ? one_line(PQerrorMessage(c)) : "";
    return pg_error(what + (text.empty() ? "" : ": " + text), "", true);
}

// Waits until libpq's socket is ready; false when `timeout` passed first.
asio::awaitable<bool> ready(descriptor& sd, PGconn* c, bool for_write,
                            std::chrono::milliseconds timeout) {
    if (sd.is_open()) {
        sd.release();
    }
    sd.assign(PQsocket(c));
    asio::steady_timer timer(sd.get_executor(), timeout);
    auto waited =
        co_await (sd.async_wait(for_write ? descriptor::wait_write : descriptor::wait_read,
                                asio::use_awaitable) ||
                  timer.async_wait(asio::use_awaitable));
    co_return waited.index() == 0;
}

std::unique_ptr<pg_conn, conn_closer> start_connection(const connection_options& o) {
    // Fallbacks before dbname, so that what the URI says wins; keepalives
    // find a server that vanished while nothing is sent to it.
    std::vector<const char*> keys{"application_name", "keepalives_idle", "keepalives_interval",
                                  "keepalives_count"};
    std::vector<const char*> values{"stemd-listen", "30", "10", "3"};
    if (!o.passfile.empty()) {
        keys.push_back("passfile");
        values.push_back(o.passfile.c_str());
    }
    keys.insert(keys.end(), {"dbname", nullptr});
    values.insert(values.end(), {o.conninfo.c_str(), nullptr});
    std::unique_ptr<pg_conn, conn_closer> c(PQconnectStartParams(keys.data(), values.data(), 1));
    if (!c || PQstatus(c.get()) == CONNECTION_BAD) {
        throw lost(c.get(), "cannot connect");
    }
    return c;
}

// Connects and sends LISTEN; returns when the server confirmed it.
asio::awaitable<void> connect_and_listen(descriptor& sd, PGconn* c, const connection_options& o) {
    for (auto step = PQconnectPoll(c); step != PGRES_POLLING_OK; step = PQconnectPoll(c)) {
        if (step == PGRES_POLLING_FAILED) {
            throw lost(c, "cannot connect");
        }
        if (!co_await ready(sd, c, step == PGRES_POLLING_WRITING, o.timeout)) {
            throw lost(nullptr, "no answer within " + std::to_string(o.timeout.count()) + " ms");
        }
    }
    PQsetNoticeProcessor(
        c, [](void*, const char*) {}, nullptr);
    if (PQsetnonblocking(c, 1) != 0 ||
        PQsendQuery(c, (std::string("LISTEN ") + work_channel).c_str()) == 0) {
        throw lost(c, "cannot send LISTEN");
    }
    while (PQflush(c) == 1) {
        co_await ready(sd, c, true, o.timeout);
    }
    for (;;) {
        while (PQisBusy(c) != 0) {
            if (!co_await ready(sd, c, false, o.timeout) || PQconsumeInput(c) == 0) {
                throw lost(c, "no answer to LISTEN");
            }
        }
        PGresult* r = PQgetResult(c);
        if (r == nullptr) {
            break;
        }
        const bool failed = PQresultStatus(r) != PGRES_COMMAND_OK;
        PQclear(r);
        if (failed) {
            throw lost(c, "LISTEN was refused");
        }
    }
    sd.release();
    sd.assign(PQsocket(c));
}

// One connection's life: returns (by throwing pg_error) when it broke.
asio::awaitable<void> listen_once(const connection_options& o, const std::function<void()>& wake,
                                  bool& up) {
    auto conn = start_connection(o);
    descriptor sd(co_await asio::this_coro::executor);
    const borrowed guard{sd};
    co_await connect_and_listen(sd, conn.get(), o);
    if (!up) {
        log_info("", "listening for work notifications from PostgreSQL");
    }
    up = true;
    wake(); // whatever was notified while this was not listening
    for (;;) {
        co_await sd.async_wait(descriptor::wait_read, asio::use_awaitable);
        if (PQconsumeInput(conn.get()) == 0) {
            throw lost(conn.get(), "the connection broke");
        }
        bool woken = false;
        while (PGnotify* n = PQnotifies(conn.get())) {
            PQfreemem(n);
            woken = true;
        }
        if (woken) {
            wake();
        }
    }
}

} // namespace

asio::awaitable<void> listen_for_work(connection_options options, std::function<void()> wake) {
    auto pause = std::chrono::milliseconds(100);
    bool up = true; // the first failure is worth a warning
    for (;;) {
        try {
            co_await listen_once(options, wake, up);
        } catch (const pg_error& e) {
            if (up) {
                log_warning("", std::string("PostgreSQL LISTEN ") + work_channel + " failed (" +
                                    e.what() +
                                    "); work is still found by polling, retrying with back-off");
                pause = std::chrono::milliseconds(100);
            }
            up = false;
        } catch (const boost::system::system_error& e) {
            if (e.code() == asio::error::operation_aborted) {
                co_return; // cancelled: the serving loop stops
            }
            if (up) {
                log_warning("", std::string("PostgreSQL LISTEN failed (") + e.what() +
                                    "); work is still found by polling, retrying with back-off");
            }
            up = false;
        }
        asio::steady_timer timer(co_await asio::this_coro::executor, pause);
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            co_return;
        }
        pause = std::min(pause * 2, std::chrono::milliseconds(30'000));
    }
}

} // namespace stemd::storage::pg
