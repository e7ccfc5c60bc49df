#pragma once

// The SQLite store's downloads: which files are runnable, claiming them,
// and the ends of a download (see store.hpp for each contract). Each
// function throws sqlite_error when SQLite fails.

#include "common/error.hpp"
#include "storage/records.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace stemd::storage {
class database;
}

namespace stemd::storage::sqlite {

result<std::vector<file_record>> runnable_files(database& db, millis now, int limit);
result<std::optional<millis>> next_wakeup(database& db);
result<std::vector<file_record>> claim_files(database& db, std::string_view owner, millis now,
                                             millis lease, int limit);
result<file_record> claim_file(database& db, std::int64_t file_id, std::string_view owner,
                               millis now, millis lease);
// Inside the caller's transaction; return how many claims they touched.
int renew_file_claims(database& db, std::string_view owner, millis until);
int release_file_claims(database& db);
// Only the claims of `owner` (its clean shutdown); a downloading file stays
// downloading, to be resumed by whoever claims it next.
int release_file_claims(database& db, std::string_view owner);

result<job_record> file_done(database& db, std::int64_t file_id, std::string_view owner,
                             std::string_view path, std::int64_t bytes, std::string_view sha256);
result<void> file_retry(database& db, std::int64_t file_id, std::string_view owner,
                        std::string_view reason, millis next_attempt_at);
result<job_record> file_failed(database& db, std::int64_t file_id, std::string_view owner,
                               std::string_view reason);
result<job_record> file_link_expired(database& db, std::int64_t file_id, std::string_view owner,
                                     std::string_view reason, millis now);

} // namespace stemd::storage::sqlite
