#include "storage/pg_listener.hpp"

#include "storage/pg_connection.hpp"
#include "tests/support/pg_cluster.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <thread>

namespace asio = boost::asio;
namespace pg = stemd::storage::pg;
using namespace std::chrono_literals;

namespace {

// Runs `io` in steps until `done` or the deadline (no fixed sleeps).
bool run_until(asio::io_context& io, const std::function<bool()>& done,
               std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        io.restart();
        io.run_for(20ms);
    }
    return true;
}

void notify(const std::string& uri) {
    pg::connection_options o;
    o.conninfo = uri;
    pg::connection c(o);
    c.exec("SELECT pg_notify('stemd_work', '')");
}

} // namespace

TEST_CASE("pg listener: a NOTIFY wakes the listener, also after the server restarted") {
    stemd::test::pg_cluster own;
    pg::connection_options o;
    o.conninfo = own.uri();
    o.timeout = 2'000ms;

    asio::io_context io;
    std::atomic<int> wakes{0};
    asio::cancellation_signal stop;
    bool ended = false;
    asio::co_spawn(io, pg::listen_for_work(o, [&] { ++wakes; }),
                   asio::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr e) {
                       CHECK_FALSE(e);
                       ended = true;
                   }));
    // The first wake comes once LISTEN is in place (missed work is looked at).
    REQUIRE(run_until(
        io, [&] { return wakes >= 1; }, 5'000ms));
    const int before = wakes;
    notify(own.uri());
    CHECK(run_until(
        io, [&] { return wakes > before; }, 5'000ms));

    own.restart();
    // Listening again (its own wake) and then woken by a new NOTIFY.
    const int after_restart = wakes;
    REQUIRE(run_until(
        io, [&] { return wakes > after_restart; }, 10'000ms));
    const int relistened = wakes;
    notify(own.uri());
    CHECK(run_until(
        io, [&] { return wakes > relistened; }, 5'000ms));

    stop.emit(asio::cancellation_type::terminal);
    CHECK(run_until(
        io, [&] { return ended; }, 5'000ms));
}
