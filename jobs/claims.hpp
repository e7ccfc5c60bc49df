#pragma once

// Claims on downloads, status look-ups and notifications (see
// storage/store.hpp), and the heartbeat that keeps this process's claims
// alive. Included only by .cpp files (it pulls in Asio).

#include "storage/store.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <string>

namespace stemd::jobs {

// A name unique to this process ("stemd-<pid>-<random>"): a claim names
// the process that took it.
std::string new_owner_id();

// Renews every claim of `owner` each third of `lease` (how long a claim
// lasts without renewal, service_options::lease), so that none expires
// while its work runs and none outlives the process by more than a lease.
class heartbeat {
public:
    heartbeat(boost::asio::any_io_executor ex, storage::store& store, std::string owner,
              std::chrono::milliseconds lease);

    boost::asio::awaitable<void> run();
    void stop();

private:
    storage::store& store_;
    std::string owner_;
    std::chrono::milliseconds lease_;
    boost::asio::steady_timer timer_;
    bool stopping_ = false;
};

} // namespace stemd::jobs
