#pragma once

// The store on a PostgreSQL database shared by any number of stemd
// processes (every call one SERIALIZABLE transaction, run again when it
// conflicts with another); see store.hpp for what each call does.

#include "storage/store.hpp"

#include <memory>

namespace stemd::storage {

namespace pg {
class connection;
struct connection_options;
} // namespace pg

class pg_store final : public store {
public:
    // Connects and brings the schema up to date under an advisory lock (two
    // processes starting at once migrate once). Fails with postgres
    // (libpq's text, the server, a hint) or newer_schema (both versions).
    static result<pg_store> open(const pg::connection_options& options);

    pg_store(pg_store&&) noexcept;
    pg_store& operator=(pg_store&&) noexcept;
    ~pg_store() override;

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
    explicit pg_store(std::unique_ptr<pg::connection> c);

    std::unique_ptr<pg::connection> conn_;
};

} // namespace stemd::storage
