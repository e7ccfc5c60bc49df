#pragma once

// Who may hold a connection to a listener, and how many descriptors the
// process may spend on connections. No Asio here: the accept loop in
// http_server.cpp asks these.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace stemd::listener {

// Open connections counted in total and per client address. One peer
// cannot take all of max_total by itself.
class admission {
public:
    admission(std::size_t max_total, std::size_t max_per_address)
        : max_total_(max_total), max_per_address_(max_per_address) {}

    // Counts a connection from `address` and returns true, or returns false
    // (and counts nothing) when either cap is reached.
    bool admit(const std::string& address);
    // Uncounts a connection admit() counted.
    void release(const std::string& address);
    std::size_t open() const { return total_; }
    std::size_t open_from(const std::string& address) const;

private:
    std::size_t max_total_;
    std::size_t max_per_address_;
    std::size_t total_ = 0;
    std::unordered_map<std::string, std::size_t> per_address_;
};

// The wait before accepting again after the process ran out of
// descriptors (EMFILE/ENFILE): 100 ms, doubling up to a bound, back to the
// start once an accept succeeds. `failed()` says whether this failure
// starts an episode, the one worth a log line.
class accept_backoff {
public:
    static constexpr std::chrono::milliseconds first{100};
    static constexpr std::chrono::milliseconds longest{1600};

    struct wait {
        std::chrono::milliseconds delay;
        bool starts_episode;
    };
    wait failed();
    void succeeded() { next_ = std::chrono::milliseconds{0}; }

private:
    std::chrono::milliseconds next_{0}; // 0: not in an episode
};

// Raises the soft RLIMIT_NOFILE to the hard limit (what a process may do
// without privileges) and returns the soft limit now in force.
std::uint64_t raise_file_limit();

// Descriptors kept aside for the database, downloads, outbound API calls,
// the listening sockets and logs.
inline constexpr std::uint64_t reserved_descriptors = 128;

// The per-listener connection cap that fits `listeners` listeners of
// `wanted` connections each under `file_limit` descriptors, keeping
// reserved_descriptors aside: `wanted` when it fits, less (at least 1)
// when not.
std::size_t fit_connections(std::size_t wanted, std::size_t listeners, std::uint64_t file_limit);

} // namespace stemd::listener
