#include "tests/support/pg_cluster.hpp"

#include "tests/support/files.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/process.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <system_error>

#include <pwd.h>
#include <unistd.h>

namespace stemd::test {

namespace {

namespace fs = std::filesystem;

const std::string bin = "/usr/lib/postgresql/15/bin/";

// initdb and the server refuse to run as root: then they run as postgres.
std::vector<std::string> as_server_user(const std::string& dir, std::vector<std::string> cmd) {
    std::vector<std::string> out;
    if (::geteuid() == 0) {
        out = {"/usr/sbin/runuser", "-u", "postgres", "--"};
    }
    // A working directory the postgres user may enter.
    out.insert(out.end(), {"/usr/bin/env", "-C", dir});
    out.insert(out.end(), cmd.begin(), cmd.end());
    return out;
}

std::string joined(const std::vector<std::string>& args) {
    std::string out;
    for (const auto& a : args) {
        out += (out.empty() ? "" : " ") + a;
    }
    return out;
}

void run_or_throw(const std::vector<std::string>& args, std::chrono::seconds timeout) {
    const run_result r = run(args, timeout);
    if (r.exit_code != 0) {
        throw std::runtime_error("pg_cluster: `" + joined(args) + "` exited with " +
                                 std::to_string(r.exit_code) + ": " + r.out + r.err);
    }
}

void give_to_postgres(const std::string& dir) {
    if (::geteuid() != 0) {
        return;
    }
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr || ::chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        throw std::runtime_error(
            "pg_cluster: cannot give " + dir +
            " to the postgres user (install postgresql-15): " + std::strerror(errno));
    }
}

} // namespace

pg_cluster::pg_cluster() : reserved_(std::make_unique<reserved_port>()) {
    port_ = reserved_->number();
    std::string pattern = (fs::temp_directory_path() / "stemd-pg-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("pg_cluster: cannot create " + pattern + ": " +
                                 std::strerror(errno));
    }
    dir_ = pattern;
    try {
        init();
        start();
    } catch (...) {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
        throw;
    }
}

pg_cluster::pg_cluster(std::string dir, int port)
    : dir_(std::move(dir)), port_(port), running_(true), owned_(false) {}

void pg_cluster::init() {
    give_to_postgres(dir_);
    run_or_throw(as_server_user(dir_, {bin + "initdb", "-D", dir_ + "/data", "-A", "trust", "-U",
                                       "stemd", "--no-sync", "-E", "UTF8", "--locale=C"}),
                 std::chrono::seconds(120));
}

void pg_cluster::start_in(const std::string& dir) {
    stop_in(dir);
    fs::create_directories(dir);
    reserved_port port;
    pg_cluster c(dir, port.number());
    c.init();
    c.start();
    write_file(fs::path(dir) / "port", std::to_string(port.number()));
}

void pg_cluster::stop_in(const std::string& dir) {
    if (fs::exists(fs::path(dir) / "data" / "postmaster.pid")) {
        pg_cluster c(dir, 0);
        c.stop();
    }
    std::error_code ignored;
    fs::remove_all(dir, ignored);
}

pg_cluster::~pg_cluster() {
    if (!owned_) {
        return;
    }
    try {
        if (running_) {
            stop();
        }
    } catch (const std::exception& e) {
        std::cerr << e.what() << '\n';
    }
    std::error_code ignored; // a leftover temp dir is harmless
    fs::remove_all(dir_, ignored);
}

pg_cluster& pg_cluster::shared() {
    if (!fs::exists(bin + "initdb")) {
        std::cerr << "SKIPPED: PostgreSQL 15 is not installed (" << bin
                  << "initdb); install postgresql-15 to run the PostgreSQL tests\n";
        std::exit(77);
    }
    if (const char* dir = std::getenv("STEMD_TEST_PG_DIR")) {
        const fs::path port_file = fs::path(dir) / "port";
        if (fs::exists(port_file)) {
            static pg_cluster run_wide(dir, std::stoi(read_file(port_file)));
            return run_wide;
        }
    }
    static pg_cluster cluster;
    return cluster;
}

std::string pg_cluster::uri(const std::string& database) const {
    return "postgresql://stemd@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string pg_cluster::create_database() {
    // The pid too: the processes of one test run share a cluster.
    const std::string name =
        "stemd_test_" + std::to_string(::getpid()) + "_" + std::to_string(++databases_);
    run_or_throw({bin + "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
                  std::to_string(port_), "-U", "stemd", "-d", "postgres", "-c",
                  "CREATE DATABASE " + name},
                 std::chrono::seconds(60));
    return uri(name);
}

void pg_cluster::pg_ctl(const std::string& action, const std::vector<std::string>& extra) {
    std::vector<std::string> cmd{bin + "pg_ctl", "-D", dir_ + "/data", "-w", "-t", "60"};
    cmd.insert(cmd.end(), extra.begin(), extra.end());
    cmd.push_back(action);
    run_or_throw(as_server_user(dir_, cmd), std::chrono::seconds(90));
}

void pg_cluster::start() {
    pg_ctl("start", {"-l", dir_ + "/server.log", "-o",
                     "-k " + dir_ + " -p " + std::to_string(port_) +
                         " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
                         " -c full_page_writes=off"});
    running_ = true;
}

void pg_cluster::stop() {
    pg_ctl("stop", {"-m", "fast"});
    running_ = false;
}

void pg_cluster::restart() {
    stop();
    start();
}

} // namespace stemd::test
