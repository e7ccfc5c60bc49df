#include "jobs/poller.hpp"

#include "common/log.hpp"
#include "jobs/backoff.hpp"
#include "jobs/claims.hpp"
#include "jobs/closing_write.hpp"
#include "jobs/describe.hpp"
#include "jobs/events.hpp"
#include "jobs/metrics.hpp"
#include "jobs/status_budget.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cmath>

namespace stemd::jobs {

namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

// A 429 or 503 without a usable Retry-After pauses look-ups this long.
constexpr auto default_pause = 60s;
constexpr auto longest_pause = 3600s;

std::chrono::seconds pause_for(const musicgpt::refusal& f) {
    if (!f.retry_after_seconds)
        return default_pause;
    return std::chrono::seconds(std::llround(
        std::clamp(*f.retry_after_seconds, 1.0, static_cast<double>(longest_pause.count()))));
}

bool awaits_fresh_link(const storage::job_record& job) {
    return std::any_of(job.files.begin(), job.files.end(),
                       [](const storage::file_record& f) { return f.awaits_fresh_link(); });
}

} // namespace

status_poller::status_poller(net::any_io_executor ex, storage::store& store,
                             const service_options& options, std::string owner,
                             client::musicgpt_client& musicgpt, recorder record)
    : store_(store), options_(options), owner_(std::move(owner)), musicgpt_(musicgpt),
      record_(std::move(record)), timer_(ex) {}

void status_poller::wake() {
    woken_ = true;
    timer_.cancel();
}

void status_poller::stop() {
    stopping_ = true;
    timer_.cancel();
}

net::awaitable<void> status_poller::wait(steady::duration d) {
    timer_.expires_after(d);
    co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
}

net::awaitable<void> status_poller::run() {
    while (!stopping_) {
        woken_ = false;
        auto next = store_.next_poll_due();
        if (next && *next && **next <= now_millis()) {
            if (!co_await take_token())
                co_return;
            // Claimed after the token: a claim never waits for the bucket.
            auto claimed = store_.claim_polls(owner_, now_millis(), options_.lease.count(), 1);
            if (claimed) {
                for (const auto& job : *claimed)
                    co_await poll_one(job.id);
                continue;
            }
            next = claimed.error();
        }
        if (!next) {
            log_error("", "cannot read due status look-ups from the database (" +
                              next.error().message + "); retrying in 5 s");
            co_await wait(5s);
            continue;
        }
        if (woken_)
            continue;
        // Another process sharing the store may plan a look-up any time.
        auto until = std::chrono::milliseconds(60s);
        if (options_.shared_poll > 0ms)
            until = std::min(until, options_.shared_poll);
        if (*next)
            until = std::clamp(std::chrono::milliseconds(**next - now_millis()), 0ms, until);
        // Never a busy loop, even if the clock and the database disagree.
        co_await wait(std::max(until, std::chrono::milliseconds(20)));
    }
}

// Waits until the shared budget gives a token; false when the poller is
// stopping.
net::awaitable<bool> status_poller::take_token() {
    for (;;) {
        if (stopping_)
            co_return false;
        const auto until = take_status_token(store_, options_.status_per_minute, now_millis());
        if (!until) {
            log_error("", "cannot take a status look-up from the budget in the database (" +
                              until.error().message + "); retrying in 5 s");
            co_await wait(5s);
            continue;
        }
        if (*until == 0ms)
            co_return true;
        co_await wait(*until);
    }
}

net::awaitable<void> status_poller::poll_one(const std::string& job_id) {
    // Read again: while this look-up waited for its token a webhook may
    // have settled the job, or the plan changed.
    auto job = store_.find(job_id);
    if (!job || job->task_id.empty() || !job->next_poll_at || *job->next_poll_at > now_millis() ||
        storage::is_final(job->status)) {
        co_await release(job_id);
        co_return;
    }
    auto answer = co_await musicgpt_.by_id(job->task_id);
    if (stopping_)
        co_return; // the plan stays; the next start looks it up
    meters().status_lookups.add(!answer ? "failed" : answer->refused ? "refused" : "answered");
    // Each co_await a statement of its own, its arguments named (GCC 12).
    if (!answer) {
        const std::string why = answer.error().message;
        co_await poll_later(*job, why, true, "failed");
    } else if (answer->refused) {
        co_await refused(*job, *answer->refused);
    } else {
        co_await answered(*job, answer->conversion);
    }
}

net::awaitable<void> status_poller::refused(const storage::job_record& job,
                                            const musicgpt::refusal& f) {
    if (f.http_status == 404 && awaits_fresh_link(job)) {
        // Asking again cannot help: the task is gone, and with it its links.
        const std::string why =
            "MusicGPT does not know task " + job.task_id + " any more (" + describe(f) + ")";
        co_await no_fresh_links(job, why);
        co_return;
    }
    if (f.http_status == 404) {
        const bool failed = co_await task_unknown(job, f);
        if (failed)
            co_return;
    }
    if (f.http_status == 429)
        meters().rate_limited.add("status");
    if (f.http_status != 429 && f.http_status != 503) {
        const std::string why = describe(f);
        co_await poll_later(job, why, true, "refused");
        co_return;
    }
    const auto pause = pause_for(f);
    // Every look-up waits, not just this job's: the limit is the account's.
    const millis resume = now_millis() + std::chrono::milliseconds(pause).count();
    if (auto paused = pause_status_budget(store_, resume); !paused)
        log_error(job.id,
                  "cannot pause the status look-ups in the database: " + paused.error().message);
    const std::optional<millis> replan = resume;
    const bool released = co_await release(job.id, replan);
    if (released)
        meters().status_retries.add(f.http_status == 429 ? "rate_limited" : "unavailable");
    log_warning(job.id, "status look-up refused with HTTP " + std::to_string(f.http_status) +
                            "; pausing all look-ups for " + seconds_text(pause));
}

net::awaitable<void> status_poller::answered(const storage::job_record& job,
                                             const musicgpt::report& conversion) {
    if (conversion.task_id != job.task_id) {
        const std::string why =
            "MusicGPT's status answer is about task " + conversion.task_id + ", not " + job.task_id;
        co_await poll_later(job, why, true, "bad_answer");
        co_return;
    }
    auto recorded = record_(job.id, conversion);
    if (!recorded) {
        const std::string why =
            "cannot record MusicGPT's status answer: " + recorded.error().message;
        co_await poll_later(job, why, true, "not_recorded");
        co_return;
    }
    log_info(job.id, "status look-up: " + conversion.upstream_status + ", " +
                         std::to_string(conversion.links.size()) + " links; job is now " +
                         std::string(storage::to_string(recorded->status)));
    // Still in queue, or links that did not include a file waiting for a
    // fresh one: the plan has not moved, so ask again later.
    if (!storage::is_final(recorded->status) && recorded->next_poll_at &&
        *recorded->next_poll_at <= now_millis()) {
        const std::string why = "MusicGPT says " + conversion.upstream_status;
        co_await poll_later(*recorded, why, false, "not_ready");
    } else {
        co_await release(job.id);
    }
}

// Plans the next look-up of a job this one did not settle, backing off
// with each one in a row. A job given up instead is not a retry.
net::awaitable<void> status_poller::poll_later(const storage::job_record& job, std::string_view why,
                                               bool trouble, std::string_view cause) {
    if (awaits_fresh_link(job) && job.poll_attempts + 1 >= options_.max_link_refreshes) {
        const std::string reason =
            std::to_string(job.poll_attempts + 1) +
            " status look-ups in a row brought no fresh link (last: " + std::string(why) + ")";
        co_await no_fresh_links(job, reason);
        co_return;
    }
    const auto delay =
        backoff(options_.poll_retry_base, options_.poll_retry_cap, job.poll_attempts + 1, rng_());
    // Planned from the first try: a retry after an outage does not push it later.
    const millis at = now_millis() + delay.count();
    const auto again = [&] {
        return store_.poll_again(job.id, owner_, at);
    };
    const std::string what = "plan the next status look-up";
    auto r = co_await close_claim(again, stopping_, job.id, what);
    if (!r) {
        log_error(job.id, "cannot plan the next status look-up: " + r.error().message);
        co_return;
    }
    meters().status_retries.add(cause);
    const std::string text =
        "status look-up: " + std::string(why) + "; asking again in " + seconds_text(delay);
    if (trouble)
        log_warning(job.id, text);
    else
        log_info(job.id, text);
}

// A job with no files yet that MusicGPT still does not know once it is
// `unknown_task_after` old fails, so that it cannot be looked up for ever;
// `stemd retry` asks once more. False while it is younger.
net::awaitable<bool> status_poller::task_unknown(const storage::job_record& job,
                                                 const musicgpt::refusal& f) {
    if (!job.files.empty() || now_millis() - job.created_at < options_.unknown_task_after.count())
        co_return false;
    const std::string reason = "MusicGPT does not know task " + job.task_id + " (" + describe(f) +
                               ") " + seconds_text(options_.unknown_task_after) +
                               " after it was submitted; check the MusicGPT dashboard, then "
                               "`stemd retry` asks again";
    if (auto failed = store_.mark_failed(job.id, reason); !failed) {
        log_error(job.id, "cannot fail the job: " + failed.error().message);
        co_return false;
    }
    co_await release(job.id);
    log_error(job.id, "failed: " + reason);
    // Its history ends as any failed job's does (`stemd logs`).
    if (auto after = store_.find(job.id))
        note_if_final(store_, job.status, *after);
    co_return true;
}

// Fails the files waiting for a fresh link, and so the job: the bound that
// keeps a job from waiting for links for ever.
net::awaitable<void> status_poller::no_fresh_links(const storage::job_record& job,
                                                   const std::string& why) {
    const std::string reason = "the stem link was refused and no fresh one can be had: " + why +
                               "; `stemd retry` tries again";
    const auto fail = [&] {
        return store_.fail_awaiting_links(job.id, owner_, reason);
    };
    const std::string what = "fail the files waiting for fresh links";
    auto failed = co_await close_claim(fail, stopping_, job.id, what);
    if (!failed) {
        log_error(job.id,
                  "cannot fail the files waiting for fresh links: " + failed.error().message);
        co_await release(job.id);
        co_return;
    }
    // The files failed here are download failures no attempt made: their
    // links expired and no fresh one came.
    const auto given_up = std::count_if(
        failed->files.begin(), failed->files.end(), [&](const storage::file_record& f) {
            return f.status == storage::file_status::failed && f.error == reason;
        });
    meters().download_failures.add("link_expired", static_cast<std::uint64_t>(given_up));
    log_error(job.id, "failed: " + reason);
    note_if_final(store_, job.status, *failed);
}

// Ends a claimed look-up that poll_later does not end.
net::awaitable<bool> status_poller::release(const std::string& job_id,
                                            std::optional<millis> replan) {
    const auto end = [&] {
        return store_.release_poll(job_id, owner_, replan);
    };
    const std::string what = "end the status look-up";
    auto r = co_await close_claim(end, stopping_, job_id, what);
    if (!r) {
        log_error(job_id, "cannot end the status look-up: " + r.error().message);
        co_return false;
    }
    co_return true;
}

} // namespace stemd::jobs
