#pragma once

// The durable record of jobs, their files and the work on them, whatever
// the engine behind it: sqlite_store.hpp (one process, one file) or
// pg_store.hpp (PostgreSQL, shared by several processes).
//
// Every write is one transaction committed before the call returns, so a
// caller that acknowledges after a successful call never acknowledges
// something a crash could lose. Failures come back as stemd::error with a
// storage::error code (see error.hpp) and a message naming the job or file.
// A store is used from one thread.
//
// Work is claimed: a download or a status look-up is handed out to one
// owner (a string naming a process) until a time (a lease), renewed while
// the work runs and released by its end. A claim whose owner stopped
// renewing it expires and is handed out again, so a crashed process never
// leaves work stranded and two processes never do the same work.

#include "common/error.hpp"
#include "musicgpt/report.hpp"
#include "storage/records.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stemd::storage {

// What GET /metrics reads from the store at scrape time.
struct store_gauges {
    std::array<std::int64_t, job_statuses.size()> jobs{}; // by status, in job_statuses' order
    // Files not done or failed of jobs that are not final: waiting to be
    // claimed (due, backing off, or waiting for a fresh link) or downloading.
    std::int64_t queued_files = 0;
    std::optional<millis> oldest_unfinished; // created_at of the oldest job not final
    std::int64_t pending_notifications = 0;  // outbox events not yet delivered or ended
};

// What take_budget() answered.
struct budget_take {
    bool granted = false;
    millis retry_at = 0; // when not granted: the earliest time a token will be there
};

class store {
public:
    virtual ~store() = default;

    // --- Jobs --------------------------------------------------------------

    // Creates a job in `submitting` with a fresh random id.
    virtual result<job_record> create_job(const new_job& j) = 0;

    // submitting -> submitted once MusicGPT accepted it. `poll_at` is when
    // to ask the status endpoint if no final webhook has come by then
    // (nullopt: never); the caller decides, as storage knows no settings.
    virtual result<void> mark_submitted(std::string_view job_id, std::string_view task_id,
                                        std::string_view conversion_id, std::optional<double> eta,
                                        std::optional<double> credit_estimate,
                                        std::string_view upstream_status,
                                        std::optional<millis> poll_at = std::nullopt) = 0;

    // Any non-final state -> failed with a reason.
    virtual result<void> mark_failed(std::string_view job_id, std::string_view reason) = 0;

    // Looks a job up by stemd id, task_id or conversion_id.
    virtual result<job_record> find(std::string_view key) = 0;
    // Looks a job up by the hash of its webhook token (exact match; callers
    // compare in constant time on top).
    virtual result<job_record> find_by_token_hash(std::string_view token_hash) = 0;
    // Returns the stored token hash of a job ("" if none).
    virtual result<std::string> token_hash(std::string_view job_id) = 0;

    // Newest first; `status` filters when given, and `created_since` keeps
    // jobs created at or after it; limit is clamped to [1, 1000].
    virtual result<std::vector<job_record>> list(std::optional<job_status> status, int limit,
                                                 std::optional<millis> created_since) = 0;
    result<std::vector<job_record>> list(std::optional<job_status> status, int limit) {
        return list(status, limit, std::nullopt);
    }
    // One page of that list, newest first, each job with its files: the
    // jobs strictly after `before` in (created_at, rowid) descending order,
    // and the cursor of the page's last job when more follow. Served by an
    // index (jobs_by_created, or jobs_by_status with a status) at any depth.
    virtual result<job_page> list_page(const page_query& q) = 0;

    // The job for a task stemd did not submit (webhook secret path): found
    // by task_id (else conversion_id), or created in `submitted` with the
    // given ids. A job found that stemd submitted (it has a token hash) is
    // refused with conflict and left unchanged: it changes only through
    // its own webhook token.
    virtual result<job_record> adopt(std::string_view task_id, std::string_view conversion_id) = 0;

    // Records what MusicGPT reported, in one transaction; `paths[i]` is the
    // destination of `r.links[i]` (the caller chooses it; the sizes must
    // match):
    //  - pending: upstream_status recorded, nothing else changes (the
    //    planned status look-up stays as it is);
    //  - failed: job -> failed with the message (unless already completed);
    //  - succeeded: cost/duration stored, each link inserted as a pending file
    //    unless a file of that (subdir, name) exists (a repeated delivery);
    //    a not-yet-done file gets the new URL (fresher link) and, if it was
    //    waiting for one, becomes due at once. Job -> downloading, or
    //    completed when every file is already done; failed with a reason
    //    when there is no link at all. No more status look-ups are planned
    //    unless a file still waits for a fresh link.
    // A job already completed is left as it is; a job that becomes final
    // never has a look-up planned. Ids that belong to another job: conflict.
    virtual result<job_record> apply(std::string_view job_id, const musicgpt::report& r,
                                     const std::vector<std::string>& paths) = 0;

    // Jobs still in `submitting` that were created before `created_before`,
    // oldest first: a process that died between asking MusicGPT and
    // recording its answer leaves them so. They have no task_id, so the
    // status endpoint cannot find them; only their webhook can.
    virtual result<std::vector<job_record>> stale_submitting(millis created_before) = 0;
    // Jobs not yet final (submitting, submitted, downloading), the longest
    // waiting first: by created_at, or updated_at for downloading (the
    // clocks their overdue bounds run on); limit is clamped to [1, 1000].
    virtual result<std::vector<job_record>> longest_waiting_open_jobs(int limit) = 0;
    // submitting -> failed with `reason`; invalid_transition when the job
    // has moved on meanwhile (e.g. its webhook came), so a late decision
    // never overrides what MusicGPT reported.
    virtual result<job_record> give_up_submitting(std::string_view job_id,
                                                  std::string_view reason) = 0;

    // Another go for a failed job (found by id, task_id or conversion_id),
    // in one transaction: its failed and unfinished files become pending
    // and unclaimed with no attempts or link refreshes used and due at `now`, the error is
    // cleared, and the job becomes downloading (completed if all files are
    // done). A job without files but with a task_id becomes submitted with
    // a status look-up due at `now`. Refused (invalid_transition, the
    // message says why) when the job is not failed or was never accepted by
    // MusicGPT (no task_id and no files).
    virtual result<job_record> retry(std::string_view key, millis now) = 0;

    // --- Downloads -----------------------------------------------------------

    // Files claim_files would hand out at `now` (due, of a job that is not
    // final, not held by a live claim), oldest first; read only.
    virtual result<std::vector<file_record>> runnable_files(millis now, int limit) = 0;
    // When claim_files may next have something: the earliest
    // next_attempt_at of an unclaimed file, or claim_until of a claimed one
    // (it can be taken over then), of jobs that are not final.
    virtual result<std::optional<millis>> next_wakeup() = 0;

    // Takes up to `limit` runnable files for `owner` until now + lease, in
    // one transaction: each becomes downloading with attempts + 1 (its job
    // too, if it was submitted). A file whose destination path another
    // live claim holds is skipped, even in another job, so two downloads
    // never write the same file. Expired claims are taken over.
    virtual result<std::vector<file_record>> claim_files(std::string_view owner, millis now,
                                                         millis lease, int limit) = 0;
    // The same for one given file, due or not: not_found, invalid_transition
    // (done, failed, or its job is final) or claim_lost (another owner's
    // live claim, or its destination is being written) when it cannot be.
    virtual result<file_record> claim_file(std::int64_t file_id, std::string_view owner, millis now,
                                           millis lease) = 0;
    // The heartbeat: every claim `owner` still holds now (a download, a
    // status look-up, or a pending outbox event it is delivering) lasts
    // until now + lease, in one transaction (an outbox claim already
    // longer is kept). Notifications are included because a batch is sent
    // one event after another, and the last of it must not expire (and be
    // sent again by another process) while the first ones are sent.
    // Returns how many were renewed.
    virtual result<int> renew_claims(std::string_view owner, millis now, millis lease) = 0;
    // Releases every claim `owner` holds (files, look-ups, outbox events),
    // in one transaction, leaving the work where it was (a file stays
    // `downloading`, to be resumed): a process stopping cleanly hands its
    // work to the others at once instead of letting it wait for its lease
    // to expire. Claims of other owners are untouched. Returns how many
    // were released.
    virtual result<int> release_claims(std::string_view owner) = 0;
    // Releases every claim at once, leaving the work where it was (a file
    // stays `downloading`, to be resumed). Only for a caller that knows no
    // other owner is alive: the single process holding the database
    // exclusively, at its start. Returns how many were released.
    virtual result<int> release_all_claims() = 0;

    // The ends of a claimed download; each releases the claim and is refused
    // with claim_lost when `owner` no longer holds it (released, or taken
    // over after it expired), and with invalid_transition when the file is
    // not downloading.
    // downloading -> done with its final path, size and digest; the job
    // becomes completed when this was its last unfinished file.
    virtual result<job_record> file_done(std::int64_t file_id, std::string_view owner,
                                         std::string_view path, std::int64_t bytes,
                                         std::string_view sha256) = 0;
    // downloading -> pending again, to be tried at `next_attempt_at`.
    virtual result<void> file_retry(std::int64_t file_id, std::string_view owner,
                                    std::string_view error, millis next_attempt_at) = 0;
    // downloading -> failed; the job becomes failed naming the file.
    virtual result<job_record> file_failed(std::int64_t file_id, std::string_view owner,
                                           std::string_view error) = 0;
    // downloading -> pending, waiting for a fresh link (awaiting_fresh_link):
    // the server refused the signed link, and one more link refresh is
    // counted (file_record::link_refreshes). The job's status look-up is
    // planned for `now` (or kept, if one is due sooner), since that is
    // where fresh links come from. Returns the job.
    virtual result<job_record> file_link_expired(std::int64_t file_id, std::string_view owner,
                                                 std::string_view error, millis now) = 0;

    // --- Status look-ups (MusicGPT's byId) -----------------------------------

    // Jobs whose look-up is due at `now` and not claimed: not final, with a
    // task_id, earliest first; limit clamped to [1, 1000]; read only.
    virtual result<std::vector<job_record>> jobs_due_for_poll(millis now, int limit) = 0;
    // The earliest planned look-up among jobs that can be looked up (for a
    // claimed one, not before its claim expires), if any.
    virtual result<std::optional<millis>> next_poll_due() = 0;
    // Takes up to `limit` due look-ups for `owner` until now + lease, in one
    // transaction (expired claims are taken over); earliest first.
    virtual result<std::vector<job_record>> claim_polls(std::string_view owner, millis now,
                                                        millis lease, int limit) = 0;
    // Plans (or with nullopt cancels) the job's next look-up, keeping its
    // count of unsettled look-ups. Final jobs are refused (invalid_transition).
    virtual result<void> schedule_poll(std::string_view job_id, std::optional<millis> at) = 0;
    // The end of a claimed look-up that did not settle the job (still in
    // queue, or the call failed): counts it, plans the next one at `at` and
    // releases the claim. Final jobs are refused (invalid_transition), a
    // claim `owner` does not hold with claim_lost.
    virtual result<void> poll_again(std::string_view job_id, std::string_view owner, millis at) = 0;
    // Any other end of a claimed look-up (it settled the job, or was not
    // needed): releases the claim; `replan`, when given, moves the next
    // look-up without counting (the server asked to wait). A claim `owner`
    // does not hold is refused with claim_lost.
    virtual result<void> release_poll(std::string_view job_id, std::string_view owner,
                                      std::optional<millis> replan = std::nullopt) = 0;
    // The end of a claimed look-up after which fresh links cannot be had
    // (MusicGPT no longer knows the task, or the budget of look-ups is
    // spent): every file waiting for a fresh link becomes failed with
    // `reason`, the job failed naming the first of them, no look-up stays
    // planned and the claim is released. A job with no waiting file is
    // left as it is (invalid_transition), a claim `owner` does not hold
    // refused with claim_lost. Returns the job.
    virtual result<job_record> fail_awaiting_links(std::string_view job_id, std::string_view owner,
                                                   std::string_view reason) = 0;

    // --- Webhook deliveries ----------------------------------------------------

    // Standard Webhooks replay guard: records a delivery's webhook-id and
    // says whether it is new (true) or was seen before (false). Ids older
    // than a week are forgotten (the signature's timestamp window is far
    // shorter, so an old id cannot be replayed anyway).
    virtual result<bool> remember_delivery(std::string_view webhook_id, millis now) = 0;
    // Whether a delivery with this webhook-id was already recorded (read
    // only: a replay is recognised before anything is applied).
    virtual result<bool> seen_delivery(std::string_view webhook_id) = 0;

    // --- The outbox (telling the user's app) ----------------------------------

    // The channels ("url", "command") an event is written for whenever a
    // job becomes completed or failed, inside the transaction that makes it
    // so; none (the default) writes nothing. Set once, after opening.
    virtual void set_outbox_channels(std::vector<std::string> channels) = 0;
    // Takes up to `limit` pending events due at `now` for `owner` until
    // now + lease (expired claims are taken over), each with attempts + 1;
    // earliest first.
    virtual result<std::vector<notification_record>>
    claim_notifications(std::string_view owner, millis now, millis lease, int limit) = 0;
    // The end of a claimed delivery: delivered (at `now`), refused or
    // failed (final), or pending again at e.next_attempt_at; releases the
    // claim. claim_lost when `owner` does not hold it.
    virtual result<void> end_notification(std::string_view id, std::string_view owner,
                                          const notification_end& e, millis now) = 0;
    // When claim_notifications may next have something, if ever.
    virtual result<std::optional<millis>> next_notification_due() = 0;
    // Newest first; `status` filters when given; limit clamped to [1, 1000].
    virtual result<std::vector<notification_record>>
    notifications(std::optional<std::string_view> status, int limit) = 0;

    // --- Monitoring ------------------------------------------------------------

    // Counts for GET /metrics, read in one snapshot; read only.
    virtual result<store_gauges> gauges() = 0;

    // --- Retention ---------------------------------------------------------------

    // What prune_final_jobs(cutoff, ...) would remove, read only: final
    // jobs (completed, failed) last changed before `cutoff` that no claim
    // holds, with their files, by id after `after_id` ("" from the first);
    // limit clamped to [1, 1000]. A caller pages with the last id it got.
    virtual result<std::vector<job_record>> prunable_jobs(millis cutoff, std::string_view after_id,
                                                          int limit) = 0;
    // Deletes up to `limit` of those jobs (clamped to [1, 1000]) with their
    // files, in one transaction, and forgets the webhook-ids the replay
    // guard no longer needs at `now`. Returns the jobs deleted, each with
    // its files, so the caller can remove what is on disk. A job that is
    // not final, or final since `cutoff` or later, is never touched.
    virtual result<prune_batch> prune_final_jobs(millis cutoff, millis now, int limit) = 0;
    // Gives at most `pages` free pages of the database back to the file
    // system (what deleted rows left), outside any other transaction.
    virtual result<compaction> compact(int pages) = 0;

    // --- Activity ----------------------------------------------------------------

    // Read only: files `downloading` now, and jobs completed / failed whose
    // last change is at or after `since`.
    virtual result<activity> activity_since(millis since) = 0;
    // --- Events (what `stemd logs` shows) ------------------------------------

    // Appends one event to the job's history, in its own short transaction;
    // only the newest max_events_per_job of a job are kept. The caller
    // words `detail` and keeps secrets and signed links' queries out of it.
    // not_found when the job does not exist. Returns the event's id.
    virtual result<std::int64_t> append_event(const new_event& e) = 0;
    // The job's newest `limit` events (clamped to [1, max_events_per_job]),
    // oldest first.
    virtual result<std::vector<event_record>> events(std::string_view job_id, int limit) = 0;
    // The events with an id above `after`, of every job (or only of
    // `job_id` when it is not ""), oldest first, at most `limit` (clamped
    // to [1, max_events_after]): what GET /v1/events replays.
    virtual result<std::vector<event_record>> events_after(std::int64_t after,
                                                           std::string_view job_id, int limit) = 0;
    // The id of the newest event stored, 0 when there is none.
    virtual result<std::int64_t> newest_event_id() = 0;

    // --- Rate budgets shared by every process on the store --------------------

    // A token bucket kept in the store, so that every process using it
    // draws from one budget (MusicGPT's limit on status look-ups is per API
    // key, not per process). The bucket `name` holds at most `capacity`
    // tokens and gains `per_second` a second; a missing bucket starts
    // full. Takes one token and answers granted when one is there at
    // `now`, else takes nothing and answers when one will be. One short
    // transaction.
    virtual result<budget_take> take_budget(std::string_view name, millis now, double capacity,
                                            double per_second) = 0;
    // No token of `name` before `until` (the server's Retry-After), for
    // every process; an earlier pause is extended, never shortened.
    virtual result<void> pause_budget(std::string_view name, millis until) = 0;
};

} // namespace stemd::storage
