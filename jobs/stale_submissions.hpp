#pragma once

// Jobs an earlier process left `submitting`: it died between MusicGPT's
// answer and recording it. Each gets service_options::submitting_grace
// from its creation for its webhook, then fails with advice; none is
// submitted again blindly (MusicGPT may have it already). On a store
// other processes share, any of them may die while submitting, so the
// jobs past their grace are looked for again and again instead. Included only by
// .cpp files (it pulls in Asio).

#include "common/time.hpp"
#include "storage/store.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>

namespace stemd::jobs {

class stale_submissions {
public:
    // `shared_poll` > 0: the store is shared, look this often.
    stale_submissions(boost::asio::any_io_executor ex, storage::store& store,
                      std::chrono::milliseconds grace,
                      std::chrono::milliseconds shared_poll = std::chrono::milliseconds(0));

    // Settles the jobs left submitting that were created before
    // `started_at` (this process's start), then ends; on a shared store,
    // fails every job submitting for longer than the grace, until stop().
    boost::asio::awaitable<void> run(millis started_at);
    void stop();

private:
    boost::asio::awaitable<void> settle(const storage::job_record& job);
    boost::asio::awaitable<void> sweep();
    void give_up(const storage::job_record& job);

    storage::store& store_;
    std::chrono::milliseconds grace_;
    std::chrono::milliseconds shared_poll_;
    boost::asio::steady_timer timer_;
    bool stopping_ = false;
};

} // namespace stemd::jobs
