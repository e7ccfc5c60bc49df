#pragma once

#include "storage/error.hpp"

#include <boost/system/result.hpp>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stemd::storage {

class database;

enum class job_status { submitting, submitted, downloading, completed, failed };
enum class file_status { pending, downloading, done, failed };

std::string_view to_string(job_status s) noexcept;
std::string_view to_string(file_status s) noexcept;
std::optional<job_status> parse_job_status(std::string_view s) noexcept;
std::optional<file_status> parse_file_status(std::string_view s) noexcept;

// Milliseconds since the Unix epoch; all times in the store use this.
using millis = std::int64_t;
millis now_millis() noexcept;

// The next_attempt_at of a file whose signed link was refused: it waits for
// fresh links (a status look-up of its job), not for a time. Any new link for
// the file makes it due at once.
inline constexpr millis awaiting_fresh_link = std::numeric_limits<millis>::max();

struct file_record {
    std::int64_t id = 0;
    std::string job_id;
    std::string name;   // safe stem name, e.g. "vocals"
    std::string subdir; // "" or "wav"
    std::string url;    // signed link; never logged with its query string
    std::string path;   // where the file is (or will be) on disk
    file_status status = file_status::pending;
    std::int64_t bytes = 0;
    std::string sha256; // lowercase hex, set when done
    int attempts = 0;
    std::string error;
    millis next_attempt_at = 0;
};

struct job_record {
    std::string id; // stemd's own id
    std::string task_id;
    std::string conversion_id;
    job_status status = job_status::submitting;
    millis created_at = 0;
    millis updated_at = 0;
    std::optional<double> eta;
    std::optional<double> credit_estimate;
    std::optional<double> conversion_cost;
    std::optional<double> conversion_duration;
    std::string error;
    std::string upstream_status; // last status MusicGPT reported (IN_QUEUE, ...)
    std::string audio_url;
    std::string audio_file;
    std::string stems_json;                 // JSON list as text, "" when not given
    std::string preprocessing_options_json; // JSON list as text, "" when not given
    bool eco_mode = false;
    // When stemd next asks MusicGPT's status endpoint about this job
    // (nullopt: no look-up planned), and how many look-ups in a row have
    // not settled it (drives the back-off).
    std::optional<millis> next_poll_at;
    int poll_attempts = 0;
    std::vector<file_record> files; // ordered by subdir, name
};

// What a client asked for; the job starts in `submitting`.
struct new_job {
    std::string audio_url;
    std::string audio_file;
    std::string stems_json;
    std::string preprocessing_options_json;
    bool eco_mode = false;
    // SHA-256 (hex) of the per-job webhook token; the token itself is never
    // stored, so a copy of the database does not let anyone post results.
    std::string token_hash;
};

// One link to fetch, as found in a webhook or status answer.
struct file_link {
    std::string name;   // already made safe by the caller
    std::string subdir; // "" or "wav"
    std::string url;
    std::string path; // destination chosen by the caller
};

// What MusicGPT said about a job, reduced to what the store needs.
struct outcome {
    enum class kind { pending, succeeded, failed };
    kind what = kind::pending;
    std::string task_id;
    std::string conversion_id;
    std::string upstream_status;
    std::string message; // failure reason, if any
    std::optional<double> conversion_cost;
    std::optional<double> conversion_duration;
    std::vector<file_link> files;
};

// The durable record of jobs and their files. Every write is one
// BEGIN IMMEDIATE transaction that is committed before the call returns, so a
// caller that acknowledges after a successful call never acknowledges
// something a crash could lose. Not thread-safe: use from one thread.
class job_store {
public:
    // Opens (creating if needed) the database and brings its schema up to
    // date. Parent directories are created.
    static boost::system::result<job_store> open(const std::filesystem::path& file);
    // The same, also saying why in `why` when it fails (SQLite's message, or
    // the schema versions), for the "cannot start" log line.
    static boost::system::result<job_store> open(const std::filesystem::path& file,
                                                 std::string& why);

    job_store(job_store&&) noexcept;
    job_store& operator=(job_store&&) noexcept;
    ~job_store();

    // Creates a job in `submitting` with a fresh random id.
    boost::system::result<job_record> create_job(const new_job& j);

    // submitting -> submitted once MusicGPT accepted it. `poll_at` is when
    // to ask the status endpoint if no final webhook has come by then
    // (nullopt: never); the caller decides, as storage knows no settings.
    boost::system::result<void> mark_submitted(std::string_view job_id, std::string_view task_id,
                                               std::string_view conversion_id,
                                               std::optional<double> eta,
                                               std::optional<double> credit_estimate,
                                               std::string_view upstream_status,
                                               std::optional<millis> poll_at = std::nullopt);

    // Any non-final state -> failed with a reason.
    boost::system::result<void> mark_failed(std::string_view job_id, std::string_view reason);

    // Looks a job up by stemd id, task_id or conversion_id.
    boost::system::result<job_record> find(std::string_view key);
    // Looks a job up by the hash of its webhook token (exact match; callers
    // compare in constant time on top).
    boost::system::result<job_record> find_by_token_hash(std::string_view token_hash);
    // Returns the stored token hash of a job ("" if none).
    boost::system::result<std::string> token_hash(std::string_view job_id);

    // Newest first; `status` filters when given; limit is clamped to [1, 1000].
    boost::system::result<std::vector<job_record>> list(std::optional<job_status> status,
                                                        int limit);

    // The job for a task stemd did not submit (webhook secret path): found
    // by task_id, or created in `submitted` with the given ids.
    boost::system::result<job_record> adopt(std::string_view task_id,
                                            std::string_view conversion_id);

    // Applies what MusicGPT reported, in one transaction:
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
    // never has a look-up planned.
    boost::system::result<job_record> apply(std::string_view job_id, const outcome& o);

    // Files to download now: pending, or left `downloading` by a previous
    // process, whose next_attempt_at has come; oldest first.
    boost::system::result<std::vector<file_record>> runnable_files(millis now, int limit);
    // The earliest next_attempt_at among pending files, if any.
    boost::system::result<std::optional<millis>> next_wakeup();

    // pending -> downloading, attempts + 1. The job goes to downloading too.
    boost::system::result<file_record> file_started(std::int64_t file_id);
    // downloading -> done with its final path, size and digest; the job
    // becomes completed when this was its last unfinished file.
    boost::system::result<job_record> file_done(std::int64_t file_id, std::string_view path,
                                                std::int64_t bytes, std::string_view sha256);
    // downloading -> pending again, to be tried at `next_attempt_at`.
    boost::system::result<void> file_retry(std::int64_t file_id, std::string_view error,
                                           millis next_attempt_at);
    // downloading -> failed; the job becomes failed naming the file.
    boost::system::result<job_record> file_failed(std::int64_t file_id, std::string_view error);
    // downloading -> pending, waiting for a fresh link (awaiting_fresh_link):
    // the server refused the signed link. The job's status look-up is
    // planned for `now` (or kept, if one is due sooner), since that is
    // where fresh links come from. Returns the job.
    boost::system::result<job_record> file_link_expired(std::int64_t file_id,
                                                        std::string_view error, millis now);

    // Status look-ups (MusicGPT's byId). Jobs whose look-up is due at `now`:
    // not final, with a task_id, earliest first; limit clamped to [1, 1000].
    boost::system::result<std::vector<job_record>> jobs_due_for_poll(millis now, int limit);
    // The earliest planned look-up among jobs that can be looked up, if any.
    boost::system::result<std::optional<millis>> next_poll_due();
    // Plans (or with nullopt cancels) the job's next look-up, keeping its
    // count of unsettled look-ups. Final jobs are refused (invalid_transition).
    boost::system::result<void> schedule_poll(std::string_view job_id, std::optional<millis> at);
    // A look-up that did not settle the job (still in queue, or the call
    // failed): counts it and plans the next one at `at`. Final jobs are
    // refused (invalid_transition).
    boost::system::result<void> poll_again(std::string_view job_id, millis at);

    // Jobs still in `submitting` that were created before `created_before`,
    // oldest first: a process that died between asking MusicGPT and
    // recording its answer leaves them so. They have no task_id, so the
    // status endpoint cannot find them; only their webhook can.
    boost::system::result<std::vector<job_record>> stale_submitting(millis created_before);
    // submitting -> failed with `reason`; invalid_transition when the job
    // has moved on meanwhile (e.g. its webhook came), so a late decision
    // never overrides what MusicGPT reported.
    boost::system::result<job_record> give_up_submitting(std::string_view job_id,
                                                         std::string_view reason);

    // Another go for a failed job (found by id, task_id or conversion_id),
    // in one transaction: its failed and unfinished files become pending
    // with no attempts used and due at `now`, the error is cleared, and the
    // job becomes downloading (completed if all files are done). A job
    // without files but with a task_id becomes submitted with a status
    // look-up due at `now`. Refused (invalid_transition, reason in
    // last_error) when the job is not failed or was never accepted by
    // MusicGPT (no task_id and no files).
    boost::system::result<job_record> retry(std::string_view key, millis now);

    // What went wrong in the last call that failed, for the caller to log
    // (storage/ logs nothing itself). Holds no URLs, tokens or hashes.
    const std::string& last_error() const noexcept { return last_error_; }

    // Standard Webhooks replay guard: records a delivery's webhook-id and
    // says whether it is new (true) or was seen before (false). Ids older
    // than a week are forgotten (the signature's timestamp window is far
    // shorter, so an old id cannot be replayed anyway).
    boost::system::result<bool> remember_delivery(std::string_view webhook_id, millis now);
    // Whether a delivery with this webhook-id was already recorded (read
    // only: a replay is recognised before anything is applied).
    boost::system::result<bool> seen_delivery(std::string_view webhook_id);

private:
    explicit job_store(std::unique_ptr<database> db);

    // Runs `body`, turning a sqlite_error into error::sqlite and keeping
    // its text in last_error_.
    template <class F> auto guarded(F&& body) -> decltype(body());
    // Records `message` as last_error_ and returns `e` as an error code.
    boost::system::error_code fail(error e, std::string message);

    std::unique_ptr<database> db_;
    std::string last_error_;
};

} // namespace stemd::storage
