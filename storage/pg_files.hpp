#pragma once

// The PostgreSQL store's downloads: which files are runnable, claiming them,
// and the ends of a download (see store.hpp for each contract). Each
// function throws pg_error when PostgreSQL fails.

#include "common/error.hpp"
#include "storage/records.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace stemd::storage::pg {
class connection;
}

namespace stemd::storage::pg {

result<std::vector<file_record>> runnable_files(connection& c, millis now, int limit);
result<std::optional<millis>> next_wakeup(connection& c);
result<std::vector<file_record>> claim_files(connection& c, std::string_view owner, millis now,
                                             millis lease, int limit);
result<file_record> claim_file(connection& c, std::int64_t file_id, std::string_view owner,
                               millis now, millis lease);
// Inside the caller's transaction; return how many claims they touched.
int renew_file_claims(connection& c, std::string_view owner, millis until);
int release_file_claims(connection& c);
// Only the claims of `owner` (its clean shutdown); a downloading file stays
// downloading, to be resumed by whoever claims it next.
int release_file_claims(connection& c, std::string_view owner);

result<job_record> file_done(connection& c, std::int64_t file_id, std::string_view owner,
                             std::string_view path, std::int64_t bytes, std::string_view sha256);
result<void> file_retry(connection& c, std::int64_t file_id, std::string_view owner,
                        std::string_view reason, millis next_attempt_at);
result<job_record> file_failed(connection& c, std::int64_t file_id, std::string_view owner,
                               std::string_view reason);
result<job_record> file_link_expired(connection& c, std::int64_t file_id, std::string_view owner,
                                     std::string_view reason, millis now);

} // namespace stemd::storage::pg
