#pragma once

// Between PostgreSQL rows and the store's records: the column lists, reading a
// row, and the small reads and writes every concern of the SQLite store
// shares. Everything here throws sqlite_error when SQLite fails.

#include "storage/pg_connection.hpp"
#include "storage/records.hpp"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stemd::storage::pg {

inline constexpr std::string_view job_columns =
    "id, task_id, conversion_id, status, created_at, updated_at, eta, credit_estimate, "
    "conversion_cost, conversion_duration, error, upstream_status, audio_url, audio_file, "
    "stems_json, preprocessing_options_json, eco_mode, next_poll_at, poll_attempts, "
    "poll_owner, poll_until";
// How many columns job_columns lists (read_job reads them from column 0).
inline constexpr std::size_t job_column_count = 21;

inline constexpr std::string_view file_columns =
    "files.id, files.job_id, files.name, files.subdir, files.url, files.path, files.status, "
    "files.bytes, files.sha256, files.attempts, files.error, files.next_attempt_at, "
    "files.claim_owner, files.claim_until, files.link_refreshes";

// Lists and counts are clamped to [1, max_list].
inline constexpr int max_list = 1000;

std::string sql(std::initializer_list<std::string_view> parts);

// The final job states as an SQL list, e.g. "'completed', 'failed'", taken
// from is_final() so that the queries and the code never disagree.
const std::string& final_job_states();

// (Empty ids are stored as NULL: params::add_or_null.)

// Row `row` of `r`, whose columns start with job_columns (file_columns).
job_record read_job(const rows& r, int row);
file_record read_file(const rows& r, int row);
// Every row of `r` as a file.
std::vector<file_record> read_files(const rows& r);

// The job whose `column` equals `key`, without its files.
std::optional<job_record> select_job_by(connection& c, std::string_view column,
                                        std::string_view key);
std::optional<job_record> select_job(connection& c, std::string_view id);
// By stemd id, task_id or conversion_id, without its files.
std::optional<job_record> select_job_by_key(connection& c, std::string_view key);
std::vector<file_record> select_files(connection& c, std::string_view job_id);
std::optional<file_record> select_file(connection& c, std::int64_t id);
// The job with its files and its notifications (outbox events).
job_record with_files(connection& c, job_record j);
// The same for every job of `jobs` (which have none yet), in a few round
// trips instead of two per job.
void with_files(connection& c, std::vector<job_record>& jobs);
// Reads a job back after a write; it must exist since the transaction that
// wrote it is still open.
job_record reload(connection& c, std::string_view id);
// Every row of `r` as a job, each with its files and its notifications.
std::vector<job_record> read_jobs_with_files(connection& c, const rows& r);

// A job that becomes final is never looked up again.
void set_job_status(connection& c, std::string_view id, job_status status, std::string_view error,
                    millis now);
void touch_job(connection& c, std::string_view id, millis now);

struct file_counts {
    std::int64_t total = 0;
    std::int64_t done = 0;
    std::int64_t failed = 0;
};
file_counts count_files(connection& c, std::string_view job_id);

// Why a job failed because of this file.
std::string file_failure_reason(const file_record& f);
// The job's first failed file by (subdir, name), if any.
std::optional<file_record> first_failed_file(connection& c, std::string_view job_id);

} // namespace stemd::storage::pg
