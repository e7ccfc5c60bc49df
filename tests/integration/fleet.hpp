#pragma once

// Several `stemd serve` instances sharing one store (a PostgreSQL URI), one
// output and one API token, against the simulator of a `stack`, with the
// simulator's webhooks sent through the suite's round-robin forwarder: what
// a deployment behind a load balancer looks like, on loopback.

#include "integration/stack.hpp"
#include "support/forwarder.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace stemd::test {

struct fleet_options {
    int instances = 3;
    std::string database;         // storage.database, a PostgreSQL URI
    int status_per_minute = 20;   // reconcile.status_per_minute, the shared byId budget
    int concurrency = 2;          // download.concurrency per instance
    std::string reconcile_config; // more lines of [reconcile]
    std::string storage_config;   // more lines of [storage] (output = "s3://…")
    bool local_output = true;     // storage.output_dir = the stack's output_dir()
    std::string download_config;  // more lines of [download]
    std::string tables;           // whole tables appended ([s3], …)
};

class fleet {
public:
    // Writes one config per instance; starts nothing. The stack's
    // simulator must be started by the caller (before or after).
    fleet(stack& s, fleet_options options);
    ~fleet(); // SIGTERM to every running instance
    fleet(const fleet&) = delete;
    fleet& operator=(const fleet&) = delete;

    int size() const { return static_cast<int>(members_.size()); }
    // Starts instance i (again) and waits until its API answers /healthz.
    void start(int i);
    void start_all();
    void kill(int i); // SIGKILL: a crash, its leases left to expire
    // SIGTERM and wait for a clean exit; returns the exit status.
    int stop(int i, std::chrono::milliseconds timeout = std::chrono::seconds(30));
    bool running(int i);

    int api_port(int i) const { return members_[i]->api.number(); }
    forwarder& hooks() { return *forwarder_; }
    // An API request to instance i with the shared token.
    http_answer api_request(int i, const std::string& method, const std::string& target,
                            const std::string& body = "") const;
    // POST /v1/jobs on instance i; fails the test unless it is accepted.
    std::string submit(int i, const std::string& body);
    // GET /v1/jobs/<id> on the first running instance.
    boost::json::value job(const std::string& id);
    // Polls until every job is final (or `timeout`); returns them by id
    // order of `ids`, failing the test if one is not completed.
    std::vector<boost::json::value> wait_all_completed(const std::vector<std::string>& ids,
                                                       std::chrono::milliseconds timeout);
    // The end of every instance's log (a whole log of sixty jobs is too
    // much for a failure message).
    std::string logs() const;

private:
    struct member {
        reserved_port webhook, api;
        std::filesystem::path config;
        std::unique_ptr<child_process> process;
        int starts = 0;
    };
    void write_config(int i);
    int any_running();

    stack& stack_;
    fleet_options options_;
    std::vector<std::unique_ptr<member>> members_;
    std::unique_ptr<forwarder> forwarder_;
};

} // namespace stemd::test
