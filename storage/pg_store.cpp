#include "storage/pg_store.hpp"

#include "storage/error.hpp"
#include "storage/pg_activity.hpp"
#include "storage/pg_budget.hpp"
#include "storage/pg_connection.hpp"
#include "storage/pg_deliveries.hpp"
#include "storage/pg_events.hpp"
#include "storage/pg_files.hpp"
#include "storage/pg_gauges.hpp"
#include "storage/pg_jobs.hpp"
#include "storage/pg_outbox.hpp"
#include "storage/pg_polls.hpp"
#include "storage/pg_reports.hpp"
#include "storage/pg_retention.hpp"
#include "storage/pg_schema.hpp"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>
#include <utility>

namespace stemd::storage {

namespace {

// A short, jittered pause before a conflicting transaction runs again, so
// that the processes that conflicted do not meet again at once.
void back_off(int attempt) {
    static thread_local std::minstd_rand jitter(std::random_device{}());
    const int base = 2 << std::min(attempt, 6); // 4 .. 128 ms
    std::uniform_int_distribution<int> spread(base / 2, base);
    std::this_thread::sleep_for(std::chrono::milliseconds(spread(jitter)));
}

stemd::error unknown_commit(const pg::connection& c) {
    return make_error(error::unavailable,
                      "the connection to PostgreSQL at " + c.describe() +
                          " broke while a change was being committed: it may or may not have "
                          "been recorded; look the job up before doing it again");
}

// Runs `body` (one whole transaction) and maps what PostgreSQL threw: a
// serialization failure or deadlock runs it again (a few times); a lost
// connection reconnects and runs it once more, unless the loss came during
// COMMIT; anything else becomes error::postgres with libpq's text.
template <class F> auto guarded(pg::connection& c, F&& body) -> decltype(body()) {
    constexpr int tries = 8;
    bool reconnected = false;
    for (int attempt = 0;; ++attempt) {
        if (!c.healthy()) {
            try {
                c.reconnect();
            } catch (const pg::pg_error& e) {
                return make_error(error::unavailable, e.what());
            }
        }
        try {
            return body();
        } catch (const pg::pg_error& e) {
            if (e.connection_lost()) {
                if (e.during_commit()) {
                    return unknown_commit(c);
                }
                if (reconnected) {
                    return make_error(error::unavailable, e.what());
                }
                reconnected = true;
                continue; // the next round reconnects first
            }
            if (!e.retryable() || attempt + 1 >= tries) {
                return make_error(error::postgres, e.what());
            }
            back_off(attempt);
        }
    }
}

} // namespace

result<pg_store> pg_store::open(const pg::connection_options& options) {
    std::unique_ptr<pg::connection> c;
    try {
        c = std::make_unique<pg::connection>(options);
    } catch (const pg::pg_error& e) {
        return make_error(error::postgres, e.what());
    }
    if (auto migrated = guarded(*c, [&] { return pg::migrate(*c); }); !migrated) {
        return migrated.error();
    }
    return pg_store(std::move(c));
}

pg_store::pg_store(std::unique_ptr<pg::connection> c) : conn_(std::move(c)) {}
pg_store::pg_store(pg_store&&) noexcept = default;
pg_store& pg_store::operator=(pg_store&&) noexcept = default;
pg_store::~pg_store() = default;

result<job_record> pg_store::create_job(const new_job& j) {
    return guarded(*conn_, [&] { return pg::create_job(*conn_, j); });
}

result<void> pg_store::mark_submitted(std::string_view job_id, std::string_view task_id,
                                      std::string_view conversion_id, std::optional<double> eta,
                                      std::optional<double> credit_estimate,
                                      std::string_view upstream_status,
                                      std::optional<millis> poll_at) {
    return guarded(*conn_, [&] {
        return pg::mark_submitted(*conn_, job_id, task_id, conversion_id, eta, credit_estimate,
                                  upstream_status, poll_at);
    });
}

result<void> pg_store::mark_failed(std::string_view job_id, std::string_view reason) {
    return guarded(*conn_, [&] { return pg::mark_failed(*conn_, job_id, reason); });
}

result<job_record> pg_store::find(std::string_view key) {
    return guarded(*conn_, [&] { return pg::find(*conn_, key); });
}

result<job_record> pg_store::find_by_token_hash(std::string_view token_hash) {
    return guarded(*conn_, [&] { return pg::find_by_token_hash(*conn_, token_hash); });
}

result<std::string> pg_store::token_hash(std::string_view job_id) {
    return guarded(*conn_, [&] { return pg::token_hash(*conn_, job_id); });
}

result<std::vector<job_record>> pg_store::list(std::optional<job_status> status, int limit,
                                               std::optional<millis> created_since) {
    return guarded(*conn_, [&] { return pg::list(*conn_, status, limit, created_since); });
}

result<job_page> pg_store::list_page(const page_query& q) {
    return guarded(*conn_, [&] { return pg::list_page(*conn_, q); });
}

result<job_record> pg_store::adopt(std::string_view task_id, std::string_view conversion_id) {
    return guarded(*conn_, [&] { return pg::adopt(*conn_, task_id, conversion_id); });
}

result<job_record> pg_store::apply(std::string_view job_id, const musicgpt::report& r,
                                   const std::vector<std::string>& paths) {
    return guarded(*conn_, [&] { return pg::apply(*conn_, job_id, r, paths); });
}

result<std::vector<job_record>> pg_store::stale_submitting(millis created_before) {
    return guarded(*conn_, [&] { return pg::stale_submitting(*conn_, created_before); });
}

result<std::vector<job_record>> pg_store::longest_waiting_open_jobs(int limit) {
    return guarded(*conn_, [&] { return pg::longest_waiting_open_jobs(*conn_, limit); });
}

result<job_record> pg_store::give_up_submitting(std::string_view job_id, std::string_view reason) {
    return guarded(*conn_, [&] { return pg::give_up_submitting(*conn_, job_id, reason); });
}

result<job_record> pg_store::retry(std::string_view key, millis now) {
    return guarded(*conn_, [&] { return pg::retry(*conn_, key, now); });
}

result<std::vector<file_record>> pg_store::runnable_files(millis now, int limit) {
    return guarded(*conn_, [&] { return pg::runnable_files(*conn_, now, limit); });
}

result<std::optional<millis>> pg_store::next_wakeup() {
    return guarded(*conn_, [&] { return pg::next_wakeup(*conn_); });
}

result<std::vector<file_record>> pg_store::claim_files(std::string_view owner, millis now,
                                                       millis lease, int limit) {
    return guarded(*conn_, [&] { return pg::claim_files(*conn_, owner, now, lease, limit); });
}

result<file_record> pg_store::claim_file(std::int64_t file_id, std::string_view owner, millis now,
                                         millis lease) {
    return guarded(*conn_, [&] { return pg::claim_file(*conn_, file_id, owner, now, lease); });
}

result<int> pg_store::renew_claims(std::string_view owner, millis now, millis lease) {
    return guarded(*conn_, [&]() -> result<int> {
        pg::transaction tx(*conn_);
        const int renewed = pg::renew_file_claims(*conn_, owner, now + lease) +
                            pg::renew_poll_claims(*conn_, owner, now + lease) +
                            pg::renew_notification_claims(*conn_, owner, now + lease);
        tx.commit();
        return renewed;
    });
}

result<int> pg_store::release_claims(std::string_view owner) {
    return guarded(*conn_, [&]() -> result<int> {
        pg::transaction tx(*conn_);
        const int released = pg::release_file_claims(*conn_, owner) +
                             pg::release_poll_claims(*conn_, owner) +
                             pg::release_notification_claims(*conn_, owner);
        // The released work is runnable at once: wake the other processes
        // rather than leave it to their next timer.
        if (released > 0)
            conn_->note_work();
        tx.commit();
        return released;
    });
}

result<int> pg_store::release_all_claims() {
    return guarded(*conn_, [&]() -> result<int> {
        pg::transaction tx(*conn_);
        const int released = pg::release_file_claims(*conn_) + pg::release_poll_claims(*conn_) +
                             pg::release_notification_claims(*conn_);
        tx.commit();
        return released;
    });
}

result<job_record> pg_store::file_done(std::int64_t file_id, std::string_view owner,
                                       std::string_view path, std::int64_t bytes,
                                       std::string_view sha256) {
    return guarded(*conn_,
                   [&] { return pg::file_done(*conn_, file_id, owner, path, bytes, sha256); });
}

result<void> pg_store::file_retry(std::int64_t file_id, std::string_view owner,
                                  std::string_view error, millis next_attempt_at) {
    return guarded(*conn_,
                   [&] { return pg::file_retry(*conn_, file_id, owner, error, next_attempt_at); });
}

result<job_record> pg_store::file_failed(std::int64_t file_id, std::string_view owner,
                                         std::string_view error) {
    return guarded(*conn_, [&] { return pg::file_failed(*conn_, file_id, owner, error); });
}

result<job_record> pg_store::file_link_expired(std::int64_t file_id, std::string_view owner,
                                               std::string_view error, millis now) {
    return guarded(*conn_,
                   [&] { return pg::file_link_expired(*conn_, file_id, owner, error, now); });
}

result<std::vector<job_record>> pg_store::jobs_due_for_poll(millis now, int limit) {
    return guarded(*conn_, [&] { return pg::jobs_due_for_poll(*conn_, now, limit); });
}

result<std::optional<millis>> pg_store::next_poll_due() {
    return guarded(*conn_, [&] { return pg::next_poll_due(*conn_); });
}

result<std::vector<job_record>> pg_store::claim_polls(std::string_view owner, millis now,
                                                      millis lease, int limit) {
    return guarded(*conn_, [&] { return pg::claim_polls(*conn_, owner, now, lease, limit); });
}

result<void> pg_store::schedule_poll(std::string_view job_id, std::optional<millis> at) {
    return guarded(*conn_, [&] { return pg::schedule_poll(*conn_, job_id, at); });
}

result<void> pg_store::poll_again(std::string_view job_id, std::string_view owner, millis at) {
    return guarded(*conn_, [&] { return pg::poll_again(*conn_, job_id, owner, at); });
}

result<job_record> pg_store::fail_awaiting_links(std::string_view job_id, std::string_view owner,
                                                 std::string_view reason) {
    return guarded(*conn_, [&] { return pg::fail_awaiting_links(*conn_, job_id, owner, reason); });
}

result<void> pg_store::release_poll(std::string_view job_id, std::string_view owner,
                                    std::optional<millis> replan) {
    return guarded(*conn_, [&] { return pg::release_poll(*conn_, job_id, owner, replan); });
}

result<bool> pg_store::remember_delivery(std::string_view webhook_id, millis now) {
    return guarded(*conn_, [&] { return pg::remember_delivery(*conn_, webhook_id, now); });
}

result<std::int64_t> pg_store::append_event(const new_event& e) {
    return guarded(*conn_, [&] { return pg::append_event(*conn_, e); });
}

result<std::vector<event_record>> pg_store::events(std::string_view job_id, int limit) {
    return guarded(*conn_, [&] { return pg::events(*conn_, job_id, limit); });
}

result<std::vector<event_record>> pg_store::events_after(std::int64_t after,
                                                         std::string_view job_id, int limit) {
    return guarded(*conn_, [&] { return pg::events_after(*conn_, after, job_id, limit); });
}

result<std::int64_t> pg_store::newest_event_id() {
    return guarded(*conn_, [&] { return pg::newest_event_id(*conn_); });
}

result<bool> pg_store::seen_delivery(std::string_view webhook_id) {
    return guarded(*conn_, [&] { return pg::seen_delivery(*conn_, webhook_id); });
}

result<store_gauges> pg_store::gauges() {
    return guarded(*conn_, [&] { return pg::gauges(*conn_); });
}

result<std::vector<job_record>> pg_store::prunable_jobs(millis cutoff, std::string_view after_id,
                                                        int limit) {
    return guarded(*conn_, [&] { return pg::prunable_jobs(*conn_, cutoff, after_id, limit); });
}

result<prune_batch> pg_store::prune_final_jobs(millis cutoff, millis now, int limit) {
    return guarded(*conn_, [&] { return pg::prune_final_jobs(*conn_, cutoff, now, limit); });
}

result<compaction> pg_store::compact(int pages) {
    return guarded(*conn_, [&] { return pg::compact(*conn_, pages); });
}

result<activity> pg_store::activity_since(millis since) {
    return guarded(*conn_, [&] { return pg::activity_since(*conn_, since); });
}

void pg_store::set_outbox_channels(std::vector<std::string> channels) {
    conn_->set_outbox_channels(std::move(channels));
}

result<std::vector<notification_record>>
pg_store::claim_notifications(std::string_view owner, millis now, millis lease, int limit) {
    return guarded(*conn_,
                   [&] { return pg::claim_notifications(*conn_, owner, now, lease, limit); });
}

result<void> pg_store::end_notification(std::string_view id, std::string_view owner,
                                        const notification_end& e, millis now) {
    return guarded(*conn_, [&] { return pg::end_notification(*conn_, id, owner, e, now); });
}

result<std::optional<millis>> pg_store::next_notification_due() {
    return guarded(*conn_, [&] { return pg::next_notification_due(*conn_); });
}

result<std::vector<notification_record>>
pg_store::notifications(std::optional<std::string_view> status, int limit) {
    return guarded(*conn_, [&] { return pg::notifications(*conn_, status, limit); });
}

} // namespace stemd::storage

namespace stemd::storage {

result<budget_take> pg_store::take_budget(std::string_view name, millis now, double capacity,
                                          double per_second) {
    return guarded(*conn_,
                   [&] { return pg::take_budget(*conn_, name, now, capacity, per_second); });
}

result<void> pg_store::pause_budget(std::string_view name, millis until) {
    return guarded(*conn_, [&] { return pg::pause_budget(*conn_, name, until); });
}

} // namespace stemd::storage
