#include "storage/pg_connection.hpp"

#include "storage/error.hpp"
#include "storage/pg_schema.hpp"
#include "storage/pg_store.hpp"
#include "store_fixture.hpp"
#include "tests/support/pg_cluster.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/process.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

namespace pg = stemd::storage::pg;
namespace storage = stemd::storage;
using namespace std::chrono_literals;
using stemd::storage::testing::ok;
using stemd::test::pg_cluster;
using stemd::test::wait_until;
using clock_type = std::chrono::steady_clock;

namespace {

pg::connection_options options_for(std::string conninfo) {
    pg::connection_options o;
    o.conninfo = std::move(conninfo);
    o.timeout = 2'000ms;
    o.reconnect_for = 3'000ms;
    return o;
}

std::chrono::milliseconds since(clock_type::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
}

} // namespace

TEST_CASE("pg connection: a port nobody listens on fails within the timeout, naming host:port") {
    stemd::test::reserved_port nobody;
    const std::string where = "127.0.0.1:" + std::to_string(nobody.number());
    const auto start = clock_type::now();
    try {
        pg::connection c(options_for("postgresql://stemd@" + where + "/jobs"));
        FAIL("connected to a port nobody listens on");
    } catch (const pg::pg_error& e) {
        const std::string message = e.what();
        INFO(message);
        CHECK(e.connection_lost());
        CHECK(message.find(where + "/jobs") != std::string::npos);
        CHECK(message.find("storage.database") != std::string::npos);
    }
    CHECK(since(start) < 2'500ms);
}

TEST_CASE("pg connection: a statement beyond the deadline fails soon and reconnect() recovers") {
    auto o = options_for(pg_cluster::shared().uri());
    o.timeout = 500ms;
    pg::connection c(o);
    const auto start = clock_type::now();
    try {
        c.exec("SELECT pg_sleep(5)");
        FAIL("pg_sleep(5) returned within a 500 ms deadline");
    } catch (const pg::pg_error& e) {
        INFO(e.what());
        CHECK(e.connection_lost());
        CHECK(std::string(e.what()).find("500 ms") != std::string::npos);
    }
    CHECK(since(start) < 2'000ms);
    CHECK_FALSE(c.healthy());
    c.reconnect();
    CHECK(c.exec("SELECT 41 + 1").int64(0, 0) == 42);
}

TEST_CASE("pg connection: parameters and rows keep their types") {
    pg::connection c(options_for(pg_cluster::shared().uri()));
    const auto r = c.exec("SELECT $1::bigint, $2::double precision, $3::boolean, $4::text, "
                          "$5::bigint, $6::text",
                          pg::params()
                              .add(std::int64_t{9'007'199'254'740'993})
                              .add(0.157)
                              .add(true)
                              .add("naïve 'quoted'")
                              .add(std::optional<std::int64_t>{})
                              .add_or_null(""));
    REQUIRE(r.size() == 1);
    CHECK(r.int64(0, 0) == 9'007'199'254'740'993);
    CHECK(r.real(0, 1) == 0.157);
    CHECK(r.boolean(0, 2));
    CHECK(r.text(0, 3) == "naïve 'quoted'");
    CHECK_FALSE(r.optional_int64(0, 4).has_value());
    CHECK(r.is_null(0, 5));
}

TEST_CASE("pg connection: a SQL error carries its SQLSTATE and keeps the connection") {
    pg::connection c(options_for(pg_cluster::shared().uri()));
    try {
        c.exec("SELECT * FROM no_such_table");
        FAIL("selected from a missing table");
    } catch (const pg::pg_error& e) {
        CHECK(e.sqlstate() == "42P01");
        CHECK_FALSE(e.connection_lost());
        CHECK(std::string(e.what()).find("no_such_table") != std::string::npos);
    }
    CHECK(c.healthy());
    CHECK(c.exec("SELECT 1").int64(0, 0) == 1);
}

TEST_CASE("pg connection: a restarted server is reconnected to, a stopped one is unavailable") {
    pg_cluster own; // not the shared one: other tests of this process use that
    const std::string uri = own.create_database();
    auto opened = storage::pg_store::open(options_for(uri));
    auto store = ok(std::move(opened));
    ok(store.pause_budget("byId", 1));

    own.restart();
    ok(store.pause_budget("byId", 2)); // reconnected on the way

    own.stop();
    const auto start = clock_type::now();
    const auto down = store.pause_budget("byId", 3);
    REQUIRE_FALSE(down.has_value());
    INFO(down.error().message);
    CHECK(down.error().code == storage::error::unavailable);
    CHECK(down.error().message.find("127.0.0.1:" + std::to_string(own.port())) !=
          std::string::npos);
    // reconnect_for (3 s) plus at most one connect timeout (2 s).
    CHECK(since(start) < 5'500ms);
    // Down now: the next call fails at once instead of waiting again.
    const auto again = clock_type::now();
    const auto still_down = store.pause_budget("byId", 3);
    REQUIRE_FALSE(still_down.has_value());
    CHECK(still_down.error().code == storage::error::unavailable);
    CHECK(since(again) < 500ms);

    own.start();
    // Tried again within down_retry of the server being back.
    CHECK(wait_until([&] { return store.pause_budget("byId", 4).has_value(); }, 10s));
}

TEST_CASE("pg connection: two processes' stores opening a fresh database at once migrate once") {
    const std::string uri = pg_cluster::shared().create_database();
    std::atomic<int> opened{0};
    std::mutex m;
    std::string errors;
    auto open_one = [&] {
        auto s = storage::pg_store::open(options_for(uri));
        if (s) {
            ++opened;
        } else {
            const std::lock_guard lock(m);
            errors += s.error().message + "\n";
        }
    };
    std::thread a(open_one);
    std::thread b(open_one);
    a.join();
    b.join();
    INFO(errors);
    CHECK(opened == 2);
    pg::connection c(options_for(uri));
    const auto r = c.exec("SELECT count(*), max(version) FROM stemd_schema");
    CHECK(r.int64(0, 0) == 1);
    CHECK(r.int64(0, 1) == stemd::storage::pg::schema_version());
}

TEST_CASE("pg connection: conflicting transactions of two stores are run again and both succeed") {
    const std::string uri = pg_cluster::shared().create_database();
    std::atomic<int> granted{0};
    std::atomic<int> failed{0};
    std::mutex m;
    std::string errors;
    auto take = [&] {
        auto s = ok(storage::pg_store::open(options_for(uri)));
        for (int i = 0; i < 40; ++i) {
            // A big bucket that refills nothing: each take is a read and a
            // write of the same row, so the two threads conflict.
            auto t = s.take_budget("byId", 1'000, 1'000.0, 0.0);
            if (!t) {
                ++failed;
                const std::lock_guard lock(m);
                errors += t.error().message + "\n";
            } else if (t->granted) {
                ++granted;
            }
        }
    };
    std::thread a(take);
    std::thread b(take);
    a.join();
    b.join();
    INFO(errors);
    CHECK(failed == 0);
    CHECK(granted == 80);
    pg::connection c(options_for(uri));
    CHECK(c.exec("SELECT tokens FROM budgets WHERE name = 'byId'").real(0, 0) ==
          doctest::Approx(920.0));
}

TEST_CASE("pg connection: a password in the URI never appears in a message") {
    stemd::test::reserved_port nobody;
    const std::string secret = "hunter2-not-for-logs";
    auto o = options_for("postgresql://stemd:" + secret +
                         "@127.0.0.1:" + std::to_string(nobody.number()) + "/jobs");
    o.reconnect_for = 300ms;
    try {
        pg::connection c(o);
        FAIL("connected to a port nobody listens on");
    } catch (const pg::pg_error& e) {
        CHECK(std::string(e.what()).find(secret) == std::string::npos);
    }
    auto opened = storage::pg_store::open(o);
    REQUIRE_FALSE(opened.has_value());
    CHECK(opened.error().message.find(secret) == std::string::npos);

    // A server that answers: refusing a database that does not exist.
    auto live = options_for("postgresql://stemd:" + secret + "@127.0.0.1:" +
                            std::to_string(pg_cluster::shared().port()) + "/no_such_db");
    auto refused = storage::pg_store::open(live);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().message.find("no_such_db") != std::string::npos);
    CHECK(refused.error().message.find(secret) == std::string::npos);
}
