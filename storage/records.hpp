#pragma once

// What the store keeps about jobs and their files, whatever the engine.

#include "common/time.hpp"
#include "storage/states.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stemd::storage {

// Milliseconds since the Unix epoch; all times in the store use this.
using stemd::millis;
using stemd::now_millis;

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
    // Who is downloading it and until when that claim holds ("" and 0
    // when nobody is); see store::claim_files.
    std::string claim_owner;
    millis claim_until = 0;
    // How often its refused link was sent to wait for a fresh one since it
    // was delivered or retried (see store::file_link_expired).
    int link_refreshes = 0;

    // Sent to wait for a fresh link (store::file_link_expired), not yet given one.
    bool awaits_fresh_link() const {
        return status == file_status::pending && next_attempt_at == awaiting_fresh_link;
    }
};

// One event of the outbox: what stemd tells the user's app about a job
// that became completed or failed, through one channel, and how far its
// delivery has come.
namespace notification_status {
inline constexpr std::string_view pending = "pending";     // to be (re)tried
inline constexpr std::string_view delivered = "delivered"; // 2xx, or the command exited 0
inline constexpr std::string_view refused = "refused";     // a 4xx that ends it
inline constexpr std::string_view failed = "failed";       // retries spent
} // namespace notification_status

struct notification_record {
    std::string id; // "msg_<random>": the webhook-id, stable across retries
    std::string job_id;
    std::string type;    // "job.completed" or "job.failed"
    std::string channel; // "url" or "command"
    std::string body;    // the JSON event, exactly as sent
    std::string status;  // one of notification_status
    int attempts = 0;
    std::string last_error;
    std::optional<millis> next_attempt_at; // pending ones only
    std::optional<millis> delivered_at;
    millis created_at = 0;
    std::string claim_owner; // "" when nobody is delivering it
    millis claim_until = 0;
};

// How a claimed delivery ended (store::end_notification).
struct notification_end {
    std::string_view status; // delivered, refused, failed, or pending (retry at next_attempt_at)
    std::string_view error;  // why it did not work ("" when delivered)
    millis next_attempt_at = 0;
};

// What every part says when a key (the stemd id, task_id or conversion_id)
// finds no job.
inline std::string no_job_with_key(std::string_view key) {
    return "no job with id, task_id or conversion_id \"" + std::string(key) + "\"";
}

// A file as people and the job JSON name it: "vocals" or "wav/vocals".
inline std::string file_label(const file_record& f) {
    return f.subdir.empty() ? f.name : f.subdir + "/" + f.name;
}

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
    // Who is looking the job up now and until when ("" and 0 when nobody
    // is); see store::claim_polls.
    std::string poll_owner;
    millis poll_until = 0;
    std::vector<file_record> files; // ordered by subdir, name
    // Its outbox events, oldest first (none when notifications are off).
    std::vector<notification_record> notifications;
};

// Where a page of the jobs list ends: the last job's created_at and rowid
// (the order is created_at, then rowid, both descending), so the next page
// starts exactly after it however many jobs share a created_at.
struct job_cursor {
    millis created_at = 0;
    std::int64_t rowid = 0;
    bool operator==(const job_cursor&) const = default;
};

// Which page of the jobs list (store::list_page).
struct page_query {
    std::optional<job_status> status;
    int limit = 50;                      // clamped to [1, 1000]
    std::optional<job_cursor> before;    // nullopt: the newest jobs
    std::optional<millis> created_since; // jobs created at or after it
};

struct job_page {
    std::vector<job_record> jobs;
    std::optional<job_cursor> next; // nullopt: this was the last page
};

// What one batch of pruning removed: final jobs with their files (so the
// caller can remove the files on disk), and how many webhook-ids the
// replay guard no longer needed.
struct prune_batch {
    std::vector<job_record> jobs;
    int deliveries = 0;
};

// The database's size in pages around a compaction (store::compact).
struct compaction {
    std::int64_t page_size = 0;
    std::int64_t pages_before = 0;
    std::int64_t pages_after = 0;
    std::int64_t free_before = 0; // pages on the free list
    std::int64_t free_after = 0;
};

// One thing that happened to a job, as `stemd logs` shows it.
struct event_record {
    std::int64_t id = 0; // increasing: the order they happened in
    std::string job_id;
    millis at = 0;
    std::string kind;   // e.g. submitted, webhook, download_retry (see jobs/events.hpp)
    std::string file;   // the file's name, "" for the job as a whole
    std::string detail; // for people; never a secret or a signed link's query
};

struct new_event {
    std::string job_id;
    millis at = 0;
    std::string kind;
    std::string file;
    std::string detail;
};

// How many events are kept per job: the newest.
inline constexpr int max_events_per_job = 500;
// The most events one store::events_after call returns.
inline constexpr int max_events_after = 1000;

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

// What the daemon is doing, in numbers (for its one-line status): files
// being downloaded now, and jobs that became completed or failed since a
// time.
struct activity {
    std::int64_t files_downloading = 0;
    std::int64_t jobs_completed = 0;
    std::int64_t jobs_failed = 0;
};

} // namespace stemd::storage
