#include "jobs/stale_submissions.hpp"

#include "common/log.hpp"
#include "jobs/describe.hpp"
#include "jobs/events.hpp"
#include "storage/error.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <string_view>

namespace stemd::jobs {

namespace net = boost::asio;

namespace {

constexpr std::string_view stale_submission_reason =
    "stemd stopped while submitting this job; MusicGPT may or may not have it: check your "
    "MusicGPT dashboard, then submit again";

} // namespace

stale_submissions::stale_submissions(net::any_io_executor ex, storage::store& store,
                                     std::chrono::milliseconds grace,
                                     std::chrono::milliseconds shared_poll)
    : store_(store), grace_(grace), shared_poll_(shared_poll), timer_(ex) {}

void stale_submissions::stop() {
    stopping_ = true;
    timer_.cancel();
}

net::awaitable<void> stale_submissions::run(millis started_at) {
    if (shared_poll_.count() > 0) {
        co_await sweep();
        co_return;
    }
    auto stale = store_.stale_submitting(started_at);
    if (!stale) {
        log_error("",
                  "cannot read jobs left submitting from the database: " + stale.error().message);
        co_return;
    }
    if (stale->empty())
        co_return;
    log_warning("", std::to_string(stale->size()) +
                        " jobs were left submitting by an earlier stemd; each waits for its "
                        "webhook until " +
                        seconds_text(grace_) +
                        " after its creation, then fails (none is submitted again "
                        "automatically)");
    for (const auto& job : *stale) {
        co_await settle(job);
        if (stopping_)
            co_return;
    }
}

// Waits out the job's grace, then fails it unless its webhook came.
net::awaitable<void> stale_submissions::settle(const storage::job_record& job) {
    const millis deadline = job.created_at + grace_.count();
    while (!stopping_ && now_millis() < deadline) {
        timer_.expires_after(std::chrono::milliseconds(deadline - now_millis()));
        co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
    }
    if (!stopping_)
        give_up(job);
}

// Another process (alive or not) may have created the job: only the grace
// tells a dead submission from one in flight.
net::awaitable<void> stale_submissions::sweep() {
    while (!stopping_) {
        auto stale = store_.stale_submitting(now_millis() - grace_.count());
        if (!stale)
            log_error("", "cannot read jobs left submitting from the database: " +
                              stale.error().message);
        else
            for (const auto& job : *stale)
                give_up(job);
        timer_.expires_after(shared_poll_);
        co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
    }
}

void stale_submissions::give_up(const storage::job_record& job) {
    auto failed = store_.give_up_submitting(job.id, stale_submission_reason);
    if (failed) {
        log_warning(job.id, std::string(stale_submission_reason));
        note_if_final(store_, storage::job_status::submitting, *failed);
    } else if (failed.error().code != storage::error::invalid_transition)
        log_error(job.id, "cannot fail the job left submitting: " + failed.error().message);
}

} // namespace stemd::jobs
