#pragma once

// A throw-away PostgreSQL 15 cluster for tests: initdb into a fresh
// directory (as the postgres user through runuser when the test runs as
// root, since initdb refuses root), started with pg_ctl on a free loopback
// port with fsync=off, stopped and removed by the destructor. Trust
// authentication for the role "stemd" on 127.0.0.1 only.

#include <memory>
#include <string>
#include <vector>

namespace stemd::test {

class reserved_port;

class pg_cluster {
public:
    // Throws std::runtime_error naming the command and its output when the
    // cluster cannot be made or started (postgresql-15 not installed, ...).
    pg_cluster();
    ~pg_cluster();
    pg_cluster(const pg_cluster&) = delete;
    pg_cluster& operator=(const pg_cluster&) = delete;

    // The cluster of this test run when $STEMD_TEST_PG_DIR names a
    // directory start_in() set up (a CTest fixture, so that each test
    // process need not make its own); else one per test process, started on
    // first use. Exits 77 (skipped) when PostgreSQL 15 is not installed.
    static pg_cluster& shared();

    // Makes and starts a cluster in `dir` (removed first) that outlives this
    // process, its port written to dir/port; stop_in() stops and removes it.
    static void start_in(const std::string& dir);
    static void stop_in(const std::string& dir);

    int port() const noexcept { return port_; }
    // postgresql://stemd@127.0.0.1:<port>/<database>
    std::string uri(const std::string& database = "postgres") const;
    // CREATE DATABASE with a fresh name; returns its URI.
    std::string create_database();

    // pg_ctl stop -m fast / start (same data, same port), each waiting
    // until done; restart() does both, for tests of reconnection.
    void stop();
    void start();
    void restart();
    bool running() const noexcept { return running_; }

private:
    // A cluster already running in `dir` on `port`, left running.
    pg_cluster(std::string dir, int port);
    void init();
    void pg_ctl(const std::string& action, const std::vector<std::string>& extra);

    std::string dir_;
    std::unique_ptr<reserved_port> reserved_;
    int port_ = 0;
    bool running_ = false;
    int databases_ = 0;
    bool owned_ = true; // stopped and removed by the destructor
};

} // namespace stemd::test
