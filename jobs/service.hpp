#pragma once

// The job lifecycle behind one facade: submit to MusicGPT, record what it
// reports (webhook or status look-up), retry, look jobs up, and the
// background work (downloads, status look-ups, jobs left submitting, the
// heartbeat of claims). The daemon's handlers go through this, never
// around it to the store. Included only by .cpp files (it pulls in Asio
// through the client options).

#include "jobs/job_request.hpp"
#include "jobs/options.hpp"
#include "jobs/progress.hpp"
#include "jobs/retention.hpp"
#include "musicgpt/refusal.hpp"
#include "musicgpt/report.hpp"
#include "storage/store.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace stemd::jobs {

class download_scheduler;
class object_store;
class status_poller;
class stale_submissions;
class heartbeat;
class pruner;
class notifier;
class event_tail;

// Where a report came from, for the job's history.
enum class report_source { webhook, lookup };

struct submit_result {
    storage::job_record job;
    std::optional<musicgpt::refusal> refused; // MusicGPT said no (or could not be reached)
};

class service {
public:
    // `store`, `api_tls` (MusicGPT) and `download_tls` must outlive the service.
    service(boost::asio::any_io_executor ex, storage::store& store, service_options options,
            boost::asio::ssl::context& api_tls, boost::asio::ssl::context& download_tls);
    ~service();
    service(const service&) = delete;
    service& operator=(const service&) = delete;

    const service_options& options() const { return options_; }
    // Where stems are kept when storage.output is S3; null otherwise.
    object_store* objects() const { return objects_.get(); }

    // --- Jobs --------------------------------------------------------------

    // Records the job (committed), then submits it with a fresh webhook
    // token. Storage failures come back as the error; MusicGPT's refusal
    // as submit_result::refused (the job is then failed).
    boost::asio::awaitable<result<submit_result>> submit(const job_request& r);

    // Records a report for a job (committed before returning), then wakes
    // the downloader. Links to stemd's own webhook listener (the scheme,
    // host and port of public_url) are dropped with a warning; a report
    // with more than musicgpt::max_links_per_report links is refused
    // (error::too_many_links) and changes nothing.
    // A webhook is always noted in the job's history, a look-up only when it
    // changed something.
    result<storage::job_record> record(const std::string& job_id, const musicgpt::report& reported,
                                       report_source source = report_source::webhook);

    // Another go for a failed job (see store::retry); wakes the downloader
    // and the poller. not_found or conflict (the message says why not).
    result<storage::job_record> retry(const std::string& key);

    // By stemd id, task_id or conversion_id.
    result<storage::job_record> find(std::string_view key);
    // Newest first; `status` and `created_since` filter when given; limit
    // clamped to [1, 1000].
    result<std::vector<storage::job_record>>
    list(std::optional<storage::job_status> status, int limit,
         std::optional<millis> created_since = std::nullopt);

    // One page of that list (see store::list_page).
    result<storage::job_page> list_page(const storage::page_query& q) {
        return store_.list_page(q);
    }

    // The job's history, oldest first (the newest `limit`); not_found for
    // an unknown key.
    result<std::vector<storage::event_record>> events(std::string_view key, int limit);
    // Stored events with an id above `after`, of every job or of `job_id`,
    // oldest first (see store::events_after), and the newest id stored.
    result<std::vector<storage::event_record>> events_after(std::int64_t after,
                                                            std::string_view job_id, int limit) {
        return store_.events_after(after, job_id, limit);
    }
    result<std::int64_t> newest_event_id() { return store_.newest_event_id(); }
    // Adds one event to a job's history (see events.hpp).
    void note(const std::string& job_id, std::string_view kind, std::string detail);
    // The downloads in flight and how far each has come.
    const progress_table& progress() const;
    // The outbox, newest first (GET /v1/notifications); `status` filters.
    result<std::vector<storage::notification_record>>
    notifications(std::optional<std::string_view> status, int limit) {
        return store_.notifications(status, limit);
    }
    // The store's counts for GET /metrics.
    result<storage::store_gauges> gauges() { return store_.gauges(); }
    // Jobs not yet final, the longest waiting first (doctor's stuck jobs).
    result<std::vector<storage::job_record>> longest_waiting_open_jobs(int limit) {
        return store_.longest_waiting_open_jobs(limit);
    }

    // --- Webhook deliveries --------------------------------------------------

    // The job whose webhook token this is: looked up by the token's hash,
    // then compared in constant time (the database index sees only a
    // hash). jobs::error::unknown_token when none.
    result<storage::job_record> find_by_token(std::string_view token);
    // The job a delivery is for. With the job its token named: that job,
    // unless the report names another task or conversion
    // (error::foreign_ids), or its submission may still be waiting for
    // MusicGPT's answer (error::still_submitting: the answer's ids are the
    // ones to record, a delivery racing it is refused): on a store this
    // process has alone, while this process waits for it; on a shared
    // store, while the job is `submitting` and younger than
    // submitting_grace, whichever process submitted it, so that every
    // process answers the same delivery alike. A job left submitting by
    // an earlier process (past the grace, on a shared store) takes the
    // delivery's ids: its webhook is all that can settle it. Without a
    // token (the webhook.secret path): the job of that task, adopted
    // (created as submitted) when none exists; a job stemd submitted is
    // refused (storage conflict), it changes only through its own token;
    // a task no job has is not adopted while a submission is in flight
    // (error::submission_in_flight: it may be that submission's task).
    // Too many links: error::too_many_links. All refusals change nothing.
    result<storage::job_record> job_for_delivery(std::optional<storage::job_record> by_token,
                                                 const musicgpt::report& p);
    // The Standard Webhooks replay guard: whether a delivery with this
    // webhook-id was recorded before, and remembering one once its
    // delivery is recorded.
    result<bool> seen_delivery(std::string_view webhook_id);
    result<void> remember_delivery(std::string_view webhook_id);

    // --- Background work ------------------------------------------------------

    // Starts the download scheduler, the status poller, the settling of jobs
    // left submitting, retention and the heartbeat of claims (downloads and look-ups
    // are claimed through the store under this process's owner id, for a
    // lease renewed while they run). Whatever an earlier process left
    // unfinished is picked up: files as soon as their claims are released
    // or expire, planned status look-ups when due, jobs left submitting as
    // stale_submissions.hpp says.
    void start();
    // Deletes final jobs older than the order's cutoff (see retention.hpp),
    // as retention does in the background; a dry run only counts them.
    boost::asio::awaitable<result<prune_summary>> prune(const prune_order& order);

    // Starts no new downloads or look-ups; downloads in flight keep their
    // .part for resume.
    void stop();
    // At a clean shutdown, once nothing of the service runs any more (the
    // loop has stopped and its coroutines are gone) and before the store
    // closes: releases every claim this process holds, leaving the work
    // where it was (a file stays downloading, to be resumed), so that
    // other processes sharing the store take it at once instead of after
    // the lease. A failure is logged: the claims then expire as after a
    // crash.
    void release_claims();
    // Something may be runnable now.
    void wake();
    // A status look-up may be due now.
    void wake_poller();
    // Another process sharing the store made something runnable (its
    // LISTEN/NOTIFY hint): downloads, look-ups, notifications and the
    // readers of GET /v1/events look at the store now.
    void wake_all();

    // --- What it is doing ---------------------------------------------------

    // Files downloading now, jobs completed / failed since `since`.
    result<storage::activity> activity_since(storage::millis since);
    // The MusicGPT API key for requests made from now on (a reload).
    void set_api_key(std::string key);
    // retention.keep_days / delete_files from now on (a reload): the
    // background pruning and POST /v1/prune's default both follow.
    void set_retention(int keep_days, bool delete_files);

private:
    std::chrono::milliseconds first_poll_delay(std::optional<double> eta) const;
    musicgpt::submission submission_for(const job_request& r, const std::string& token) const;
    result<void> refused(const std::string& job_id, const musicgpt::refusal& f);
    result<void> accepted(const std::string& job_id, const musicgpt::submit_answer& a);
    result<void> no_submission_racing(const musicgpt::report& p);
    bool still_submitting(const storage::job_record& job) const;
    result<storage::job_record> adopt(const musicgpt::report& p);
    void note_report(const storage::job_record& before, const storage::job_record& after,
                     const musicgpt::report& p, report_source source);
    musicgpt::report without_own_links(const std::string& job_id, const musicgpt::report& p) const;

    boost::asio::any_io_executor ex_;
    storage::store& store_;
    service_options options_;
    std::string owner_; // names this process in the claims it takes
    client::musicgpt_client musicgpt_;
    std::unique_ptr<object_store> objects_; // when stems go to S3
    std::unique_ptr<download_scheduler> downloads_;
    std::unique_ptr<status_poller> poller_;
    std::unique_ptr<stale_submissions> stale_;
    std::unique_ptr<heartbeat> heartbeat_;
    std::unique_ptr<pruner> pruner_;
    std::unique_ptr<notifier> notifier_;     // when [notify] sets a URL or a command
    std::unique_ptr<event_tail> event_tail_; // on a shared store
    bool running_ = false;
    // Jobs whose submission is in flight in this process: created, MusicGPT
    // not answered yet. What decides on a store this process has alone
    // (still_submitting, no_submission_racing); a shared store decides
    // from the jobs themselves.
    std::set<std::string, std::less<>> submitting_;
};

} // namespace stemd::jobs
