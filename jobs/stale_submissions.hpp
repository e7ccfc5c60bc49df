#pragma once

// Jobs an earlier process left `submitting`: it died between MusicGPT's
// answer and recording it. Each gets service_options::submitting_grace
// from its creation for its webhook, then fails with advice; none is
// submitted again blindly (MusicGPT may have it already). Included only by
// .cpp files (it pulls in Asio).

#include "common/time.hpp"
#include "storage/store.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>

namespace stemd::jobs {

class stale_submissions {
public:
    stale_submissions(boost::asio::any_io_executor ex, storage::store& store,
                      std::chrono::milliseconds grace);

    // Settles the jobs left submitting that were created before
    // `started_at` (this process's start), then ends.
    boost::asio::awaitable<void> run(millis started_at);
    void stop();

private:
    boost::asio::awaitable<void> settle(const storage::job_record& job);

    storage::store& store_;
    std::chrono::milliseconds grace_;
    boost::asio::steady_timer timer_;
    bool stopping_ = false;
};

} // namespace stemd::jobs
