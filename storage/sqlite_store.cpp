#include "storage/sqlite_store.hpp"

#include "storage/database.hpp"
#include "storage/error.hpp"
#include "storage/sqlite_activity.hpp"
#include "storage/sqlite_budget.hpp"
#include "storage/sqlite_deliveries.hpp"
#include "storage/sqlite_events.hpp"
#include "storage/sqlite_files.hpp"
#include "storage/sqlite_gauges.hpp"
#include "storage/sqlite_jobs.hpp"
#include "storage/sqlite_outbox.hpp"
#include "storage/sqlite_polls.hpp"
#include "storage/sqlite_reports.hpp"
#include "storage/sqlite_retention.hpp"
#include "storage/sqlite_schema.hpp"

#include <utility>

namespace stemd::storage {

namespace {

// Runs `body`, turning a sqlite_error (its message names the file, SQLite's
// text and what to do) into error::sqlite.
template <class F> auto guarded(F&& body) -> decltype(body()) {
    try {
        return body();
    } catch (const sqlite_error& e) {
        return make_error(error::sqlite, e.what());
    }
}

} // namespace

result<sqlite_store> sqlite_store::open(const std::filesystem::path& file) {
    return guarded([&]() -> result<sqlite_store> {
        auto db = std::make_unique<database>(file);
        if (auto migrated = sqlite::migrate(*db, file); !migrated) {
            return migrated.error();
        }
        return sqlite_store(std::move(db));
    });
}

sqlite_store::sqlite_store(std::unique_ptr<database> db) : db_(std::move(db)) {}
sqlite_store::sqlite_store(sqlite_store&&) noexcept = default;
sqlite_store& sqlite_store::operator=(sqlite_store&&) noexcept = default;
sqlite_store::~sqlite_store() = default;

result<job_record> sqlite_store::create_job(const new_job& j) {
    return guarded([&] { return sqlite::create_job(*db_, j); });
}

result<void> sqlite_store::mark_submitted(std::string_view job_id, std::string_view task_id,
                                          std::string_view conversion_id, std::optional<double> eta,
                                          std::optional<double> credit_estimate,
                                          std::string_view upstream_status,
                                          std::optional<millis> poll_at) {
    return guarded([&] {
        return sqlite::mark_submitted(*db_, job_id, task_id, conversion_id, eta, credit_estimate,
                                      upstream_status, poll_at);
    });
}

result<void> sqlite_store::mark_failed(std::string_view job_id, std::string_view reason) {
    return guarded([&] { return sqlite::mark_failed(*db_, job_id, reason); });
}

result<job_record> sqlite_store::find(std::string_view key) {
    return guarded([&] { return sqlite::find(*db_, key); });
}

result<job_record> sqlite_store::find_by_token_hash(std::string_view token_hash) {
    return guarded([&] { return sqlite::find_by_token_hash(*db_, token_hash); });
}

result<std::string> sqlite_store::token_hash(std::string_view job_id) {
    return guarded([&] { return sqlite::token_hash(*db_, job_id); });
}

result<std::vector<job_record>> sqlite_store::list(std::optional<job_status> status, int limit,
                                                   std::optional<millis> created_since) {
    return guarded([&] { return sqlite::list(*db_, status, limit, created_since); });
}

result<job_page> sqlite_store::list_page(const page_query& q) {
    return guarded([&] { return sqlite::list_page(*db_, q); });
}

result<job_record> sqlite_store::adopt(std::string_view task_id, std::string_view conversion_id) {
    return guarded([&] { return sqlite::adopt(*db_, task_id, conversion_id); });
}

result<job_record> sqlite_store::apply(std::string_view job_id, const musicgpt::report& r,
                                       const std::vector<std::string>& paths) {
    return guarded([&] { return sqlite::apply(*db_, job_id, r, paths); });
}

result<std::vector<job_record>> sqlite_store::stale_submitting(millis created_before) {
    return guarded([&] { return sqlite::stale_submitting(*db_, created_before); });
}

result<std::vector<job_record>> sqlite_store::longest_waiting_open_jobs(int limit) {
    return guarded([&] { return sqlite::longest_waiting_open_jobs(*db_, limit); });
}

result<job_record> sqlite_store::give_up_submitting(std::string_view job_id,
                                                    std::string_view reason) {
    return guarded([&] { return sqlite::give_up_submitting(*db_, job_id, reason); });
}

result<job_record> sqlite_store::retry(std::string_view key, millis now) {
    return guarded([&] { return sqlite::retry(*db_, key, now); });
}

result<std::vector<file_record>> sqlite_store::runnable_files(millis now, int limit) {
    return guarded([&] { return sqlite::runnable_files(*db_, now, limit); });
}

result<std::optional<millis>> sqlite_store::next_wakeup() {
    return guarded([&] { return sqlite::next_wakeup(*db_); });
}

result<std::vector<file_record>> sqlite_store::claim_files(std::string_view owner, millis now,
                                                           millis lease, int limit) {
    return guarded([&] { return sqlite::claim_files(*db_, owner, now, lease, limit); });
}

result<file_record> sqlite_store::claim_file(std::int64_t file_id, std::string_view owner,
                                             millis now, millis lease) {
    return guarded([&] { return sqlite::claim_file(*db_, file_id, owner, now, lease); });
}

result<int> sqlite_store::renew_claims(std::string_view owner, millis now, millis lease) {
    return guarded([&]() -> result<int> {
        transaction tx(*db_);
        const int renewed = sqlite::renew_file_claims(*db_, owner, now + lease) +
                            sqlite::renew_poll_claims(*db_, owner, now + lease) +
                            sqlite::renew_notification_claims(*db_, owner, now + lease);
        tx.commit();
        return renewed;
    });
}

result<int> sqlite_store::release_claims(std::string_view owner) {
    return guarded([&]() -> result<int> {
        transaction tx(*db_);
        const int released = sqlite::release_file_claims(*db_, owner) +
                             sqlite::release_poll_claims(*db_, owner) +
                             sqlite::release_notification_claims(*db_, owner);
        tx.commit();
        return released;
    });
}

result<int> sqlite_store::release_all_claims() {
    return guarded([&]() -> result<int> {
        transaction tx(*db_);
        const int released = sqlite::release_file_claims(*db_) + sqlite::release_poll_claims(*db_) +
                             sqlite::release_notification_claims(*db_);
        tx.commit();
        return released;
    });
}

result<job_record> sqlite_store::file_done(std::int64_t file_id, std::string_view owner,
                                           std::string_view path, std::int64_t bytes,
                                           std::string_view sha256) {
    return guarded([&] { return sqlite::file_done(*db_, file_id, owner, path, bytes, sha256); });
}

result<void> sqlite_store::file_retry(std::int64_t file_id, std::string_view owner,
                                      std::string_view error, millis next_attempt_at) {
    return guarded(
        [&] { return sqlite::file_retry(*db_, file_id, owner, error, next_attempt_at); });
}

result<job_record> sqlite_store::file_failed(std::int64_t file_id, std::string_view owner,
                                             std::string_view error) {
    return guarded([&] { return sqlite::file_failed(*db_, file_id, owner, error); });
}

result<job_record> sqlite_store::file_link_expired(std::int64_t file_id, std::string_view owner,
                                                   std::string_view error, millis now) {
    return guarded([&] { return sqlite::file_link_expired(*db_, file_id, owner, error, now); });
}

result<std::vector<job_record>> sqlite_store::jobs_due_for_poll(millis now, int limit) {
    return guarded([&] { return sqlite::jobs_due_for_poll(*db_, now, limit); });
}

result<std::optional<millis>> sqlite_store::next_poll_due() {
    return guarded([&] { return sqlite::next_poll_due(*db_); });
}

result<std::vector<job_record>> sqlite_store::claim_polls(std::string_view owner, millis now,
                                                          millis lease, int limit) {
    return guarded([&] { return sqlite::claim_polls(*db_, owner, now, lease, limit); });
}

result<void> sqlite_store::schedule_poll(std::string_view job_id, std::optional<millis> at) {
    return guarded([&] { return sqlite::schedule_poll(*db_, job_id, at); });
}

result<void> sqlite_store::poll_again(std::string_view job_id, std::string_view owner, millis at) {
    return guarded([&] { return sqlite::poll_again(*db_, job_id, owner, at); });
}

result<job_record> sqlite_store::fail_awaiting_links(std::string_view job_id,
                                                     std::string_view owner,
                                                     std::string_view reason) {
    return guarded([&] { return sqlite::fail_awaiting_links(*db_, job_id, owner, reason); });
}

result<void> sqlite_store::release_poll(std::string_view job_id, std::string_view owner,
                                        std::optional<millis> replan) {
    return guarded([&] { return sqlite::release_poll(*db_, job_id, owner, replan); });
}

result<bool> sqlite_store::remember_delivery(std::string_view webhook_id, millis now) {
    return guarded([&] { return sqlite::remember_delivery(*db_, webhook_id, now); });
}

result<std::int64_t> sqlite_store::append_event(const new_event& e) {
    return guarded([&] { return sqlite::append_event(*db_, e); });
}

result<std::vector<event_record>> sqlite_store::events(std::string_view job_id, int limit) {
    return guarded([&] { return sqlite::events(*db_, job_id, limit); });
}

result<std::vector<event_record>> sqlite_store::events_after(std::int64_t after,
                                                             std::string_view job_id, int limit) {
    return guarded([&] { return sqlite::events_after(*db_, after, job_id, limit); });
}

result<std::int64_t> sqlite_store::newest_event_id() {
    return guarded([&] { return sqlite::newest_event_id(*db_); });
}

result<bool> sqlite_store::seen_delivery(std::string_view webhook_id) {
    return guarded([&] { return sqlite::seen_delivery(*db_, webhook_id); });
}

result<store_gauges> sqlite_store::gauges() {
    return guarded([&] { return sqlite::gauges(*db_); });
}

result<std::vector<job_record>> sqlite_store::prunable_jobs(millis cutoff,
                                                            std::string_view after_id, int limit) {
    return guarded([&] { return sqlite::prunable_jobs(*db_, cutoff, after_id, limit); });
}

result<prune_batch> sqlite_store::prune_final_jobs(millis cutoff, millis now, int limit) {
    return guarded([&] { return sqlite::prune_final_jobs(*db_, cutoff, now, limit); });
}

result<compaction> sqlite_store::compact(int pages) {
    return guarded([&] { return sqlite::compact(*db_, pages); });
}

result<bool> sqlite_store::use_incremental_vacuum() {
    return guarded([&] { return sqlite::use_incremental_vacuum(*db_); });
}

result<activity> sqlite_store::activity_since(millis since) {
    return guarded([&] { return sqlite::activity_since(*db_, since); });
}

void sqlite_store::set_outbox_channels(std::vector<std::string> channels) {
    db_->set_outbox_channels(std::move(channels));
}

result<std::vector<notification_record>>
sqlite_store::claim_notifications(std::string_view owner, millis now, millis lease, int limit) {
    return guarded([&] { return sqlite::claim_notifications(*db_, owner, now, lease, limit); });
}

result<void> sqlite_store::end_notification(std::string_view id, std::string_view owner,
                                            const notification_end& e, millis now) {
    return guarded([&] { return sqlite::end_notification(*db_, id, owner, e, now); });
}

result<std::optional<millis>> sqlite_store::next_notification_due() {
    return guarded([&] { return sqlite::next_notification_due(*db_); });
}

result<std::vector<notification_record>>
sqlite_store::notifications(std::optional<std::string_view> status, int limit) {
    return guarded([&] { return sqlite::notifications(*db_, status, limit); });
}

result<budget_take> sqlite_store::take_budget(std::string_view name, millis now, double capacity,
                                              double per_second) {
    return guarded([&] { return sqlite::take_budget(*db_, name, now, capacity, per_second); });
}

result<void> sqlite_store::pause_budget(std::string_view name, millis until) {
    return guarded([&] { return sqlite::pause_budget(*db_, name, until); });
}

} // namespace stemd::storage
