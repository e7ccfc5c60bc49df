#pragma once

// The suite's own round-robin load balancer for webhooks: listens on a
// reserved loopback port and relays each TCP connection (one HTTP request,
// as the simulator sends webhooks with Connection: close) to the next of N
// backends in turn. A backend that refuses the connection is skipped, as a
// load balancer's health check would take it out; a connection no backend
// takes is closed. Runs on threads of its own until destroyed.

#include "support/ports.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace stemd::test {

class forwarder {
public:
    // Backends are loopback ports. Throws std::runtime_error when the
    // listening socket cannot be made.
    explicit forwarder(std::vector<int> backend_ports);
    ~forwarder();
    forwarder(const forwarder&) = delete;
    forwarder& operator=(const forwarder&) = delete;

    int port() const { return port_.number(); }
    // Connections relayed to each backend, in the order given.
    std::vector<std::uint64_t> forwarded() const;
    // Connections that no backend accepted.
    std::uint64_t dropped() const { return dropped_; }

private:
    void accept_loop();
    int connect_next(); // a connected socket or -1; counts the backend
    void relay(int client, int backend);

    std::vector<int> backends_;
    reserved_port port_;
    int listen_fd_ = -1;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_; // next_, counts_, relays_
    std::size_t next_ = 0;
    std::vector<std::uint64_t> counts_;
    std::atomic<std::uint64_t> dropped_{0};
    std::vector<std::thread> relays_;
    std::thread acceptor_;
};

} // namespace stemd::test
