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

    // One cluster per test process, started on first use.
    static pg_cluster& shared();

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
    void pg_ctl(const std::string& action, const std::vector<std::string>& extra);

    std::string dir_;
    std::unique_ptr<reserved_port> reserved_;
    int port_ = 0;
    bool running_ = false;
    int databases_ = 0;
};

} // namespace stemd::test
