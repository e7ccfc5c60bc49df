#pragma once

// The store on one SQLite file (WAL, synchronous=FULL, BEGIN IMMEDIATE for
// every write); see store.hpp for what each call does.

#include "storage/store.hpp"

#include <filesystem>
#include <memory>

namespace stemd::storage {

class database;

class sqlite_store final : public store {
public:
    // Opens (creating if needed) the database and brings its schema up to
    // date. Parent directories are created. Fails with sqlite (SQLite's own
    // text and a hint) or newer_schema (both versions).
    static result<sqlite_store> open(const std::filesystem::path& file);

    sqlite_store(sqlite_store&&) noexcept;
    sqlite_store& operator=(sqlite_store&&) noexcept;
    ~sqlite_store() override;

    result<job_record> create_job(const new_job& j) override;
    result<void> mark_submitted(std::string_view job_id, std::string_view task_id,
                                std::string_view conversion_id, std::optional<double> eta,
                                std::optional<double> credit_estimate,
                                std::string_view upstream_status,
                                std::optional<millis> poll_at = std::nullopt) override;
    result<void> mark_failed(std::string_view job_id, std::string_view reason) override;
    result<job_record> find(std::string_view key) override;
    result<job_record> find_by_token_hash(std::string_view token_hash) override;
    result<std::string> token_hash(std::string_view job_id) override;
    using store::list;
    result<std::vector<job_record>> list(std::optional<job_status> status, int limit,
                                         std::optional<millis> created_since) override;
    result<job_page> list_page(const page_query& q) override;
    result<job_record> adopt(std::string_view task_id, std::string_view conversion_id) override;
    result<job_record> apply(std::string_view job_id, const musicgpt::report& r,
                             const std::vector<std::string>& paths) override;
    result<std::vector<job_record>> stale_submitting(millis created_before) override;
    result<std::vector<job_record>> longest_waiting_open_jobs(int limit) override;
    result<job_record> give_up_submitting(std::string_view job_id,
                                          std::string_view reason) override;
    result<job_record> retry(std::string_view key, millis now) override;

    result<std::vector<file_record>> runnable_files(millis now, int limit) override;
    result<std::optional<millis>> next_wakeup() override;
    result<std::vector<file_record>> claim_files(std::string_view owner, millis now, millis lease,
                                                 int limit) override;
    result<file_record> claim_file(std::int64_t file_id, std::string_view owner, millis now,
                                   millis lease) override;
    result<int> renew_claims(std::string_view owner, millis now, millis lease) override;
    result<int> release_claims(std::string_view owner) override;
    result<int> release_all_claims() override;
    result<job_record> file_done(std::int64_t file_id, std::string_view owner,
                                 std::string_view path, std::int64_t bytes,
                                 std::string_view sha256) override;
    result<void> file_retry(std::int64_t file_id, std::string_view owner, std::string_view error,
                            millis next_attempt_at) override;
    result<job_record> file_failed(std::int64_t file_id, std::string_view owner,
                                   std::string_view error) override;
    result<job_record> file_link_expired(std::int64_t file_id, std::string_view owner,
                                         std::string_view error, millis now) override;

    result<std::vector<job_record>> jobs_due_for_poll(millis now, int limit) override;
    result<std::optional<millis>> next_poll_due() override;
    result<std::vector<job_record>> claim_polls(std::string_view owner, millis now, millis lease,
                                                int limit) override;
    result<void> schedule_poll(std::string_view job_id, std::optional<millis> at) override;
    result<void> poll_again(std::string_view job_id, std::string_view owner, millis at) override;
    result<job_record> fail_awaiting_links(std::string_view job_id, std::string_view owner,
                                           std::string_view reason) override;
    result<void> release_poll(std::string_view job_id, std::string_view owner,
                              std::optional<millis> replan = std::nullopt) override;

    result<bool> remember_delivery(std::string_view webhook_id, millis now) override;
    result<bool> seen_delivery(std::string_view webhook_id) override;
    result<store_gauges> gauges() override;

    void set_outbox_channels(std::vector<std::string> channels) override;
    result<std::vector<notification_record>> claim_notifications(std::string_view owner, millis now,
                                                                 millis lease, int limit) override;
    result<void> end_notification(std::string_view id, std::string_view owner,
                                  const notification_end& e, millis now) override;
    result<std::optional<millis>> next_notification_due() override;
    result<std::vector<notification_record>> notifications(std::optional<std::string_view> status,
                                                           int limit) override;

    result<std::vector<job_record>> prunable_jobs(millis cutoff, std::string_view after_id,
                                                  int limit) override;
    result<prune_batch> prune_final_jobs(millis cutoff, millis now, int limit) override;
    result<compaction> compact(int pages) override;

    // Makes free pages returnable by compact(): a database made by an
    // older stemd (auto_vacuum NONE) is rebuilt once with VACUUM, which
    // needs the database to itself and free disk space about its size, so
    // only the process holding the daemon's lock calls it. True when it
    // switched, false when the database was already incremental.
    result<bool> use_incremental_vacuum();

    result<activity> activity_since(millis since) override;

    result<std::int64_t> append_event(const new_event& e) override;
    result<std::vector<event_record>> events(std::string_view job_id, int limit) override;
    result<std::vector<event_record>> events_after(std::int64_t after, std::string_view job_id,
                                                   int limit) override;
    result<std::int64_t> newest_event_id() override;

    result<budget_take> take_budget(std::string_view name, millis now, double capacity,
                                    double per_second) override;
    result<void> pause_budget(std::string_view name, millis until) override;

private:
    explicit sqlite_store(std::unique_ptr<database> db);

    std::unique_ptr<database> db_;
};

} // namespace stemd::storage
