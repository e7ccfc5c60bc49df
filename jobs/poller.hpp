#pragma once

// The status poller: claims due status look-ups (MusicGPT's byId) from the
// store, paces them all through one token bucket kept in the store and
// shared by every process using it (status_budget.hpp: many overdue jobs,
// or many processes, never add up to a 429 storm), pauses every look-up of
// every process when MusicGPT answers 429/503, records what it learns, and
// backs off on look-ups that settle nothing. Included only by .cpp files
// (it pulls in Asio).

#include "jobs/options.hpp"
#include "storage/store.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace stemd::jobs {

class status_poller {
public:
    // Records a report for a job, as service::record does.
    using recorder =
        std::function<result<storage::job_record>(const std::string&, const musicgpt::report&)>;

    // `options` and `musicgpt` must outlive the poller.
    status_poller(boost::asio::any_io_executor ex, storage::store& store,
                  const service_options& options, std::string owner,
                  client::musicgpt_client& musicgpt, recorder record);

    // Runs until stop(); a look-up cut short keeps its plan for the next start.
    boost::asio::awaitable<void> run();
    // A look-up may be due now.
    void wake();
    void stop();

private:
    boost::asio::awaitable<void> wait(std::chrono::steady_clock::duration d);
    boost::asio::awaitable<bool> take_token();
    boost::asio::awaitable<void> poll_one(const std::string& job_id);
    // The ends of a look-up are coroutines: the write that ends its claim
    // is tried again while the store is down (closing_write.hpp).
    boost::asio::awaitable<void> refused(const storage::job_record& job,
                                         const musicgpt::refusal& f);
    boost::asio::awaitable<void> answered(const storage::job_record& job,
                                          const musicgpt::report& conversion);
    // `cause` is what the look-up planned again is counted under, once it
    // is planned.
    boost::asio::awaitable<void> poll_later(const storage::job_record& job, std::string_view why,
                                            bool trouble, std::string_view cause);
    boost::asio::awaitable<void> no_fresh_links(const storage::job_record& job,
                                                const std::string& why);
    boost::asio::awaitable<bool> task_unknown(const storage::job_record& job,
                                              const musicgpt::refusal& f);
    boost::asio::awaitable<bool> release(const std::string& job_id,
                                         std::optional<millis> replan = {});

    storage::store& store_;
    const service_options& options_;
    std::string owner_;
    client::musicgpt_client& musicgpt_;
    recorder record_;
    boost::asio::steady_timer timer_;
    std::mt19937_64 rng_{std::random_device{}()};
    bool woken_ = false;
    bool stopping_ = false;
};

} // namespace stemd::jobs
