#pragma once

// Claims on downloads and status look-ups (see storage/store.hpp), and the
// heartbeat that keeps this process's claims alive. Included only by .cpp
// files (it pulls in Asio).

#include "storage/store.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <string>

namespace stemd::jobs {

// How long a claim on a download or look-up lasts without renewal: a
// process that dies leaves its work to others (or its successor) after this.
inline constexpr std::chrono::milliseconds lease{60'000};

// A name unique to this process ("stemd-<pid>-<random>"): a claim names
// the process that took it.
std::string new_owner_id();

// Renews every claim of `owner` each third of a lease, so that none
// expires while its work runs and none outlives the process by more than a
// lease.
class heartbeat {
public:
    heartbeat(boost::asio::any_io_executor ex, storage::store& store, std::string owner);

    boost::asio::awaitable<void> run();
    void stop();

private:
    storage::store& store_;
    std::string owner_;
    boost::asio::steady_timer timer_;
    bool stopping_ = false;
};

} // namespace stemd::jobs
