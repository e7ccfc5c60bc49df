#include "storage/pg_files.hpp"

#include "storage/pg_connection.hpp"

// Not built yet: every call fails loudly (replaced by the real statements).

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace stemd::storage::pg {

result<std::vector<file_record>> runnable_files(connection& c, millis now, int limit) {
    throw pg_error("pg_files: not built yet", "", false);
}

result<std::optional<millis>> next_wakeup(connection& c) {
    throw pg_error("pg_files: not built yet", "", false);
}

result<std::vector<file_record>> claim_files(connection& c, std::string_view owner, millis now, millis lease, int limit) {
    throw pg_error("pg_files: not built yet", "", false);
}

result<file_record> claim_file(connection& c, std::int64_t file_id, std::string_view owner, millis now, millis lease) {
    throw pg_error("pg_files: not built yet", "", false);
}

int renew_file_claims(connection& c, std::string_view owner, millis until) {
    throw pg_error("pg_files: not built yet", "", false);
}

int release_file_claims(connection& c) {
    throw pg_error("pg_files: not built yet", "", false);
}

result<job_record> file_done(connection& c, std::int64_t file_id, std::string_view owner, std::string_view path, std::int64_t bytes, std::string_view sha256) {
    throw pg_error("pg_files: not built yet", "", false);
}

result<void> file_retry(connection& c, std::int64_t file_id, std::string_view owner, std::string_view reason, millis next_attempt_at) {
    throw pg_error("pg_files: not built yet", "", false);
}

result<job_record> file_failed(connection& c, std::int64_t file_id, std::string_view owner, std::string_view reason) {
    throw pg_error("pg_files: not built yet", "", false);
}

result<job_record> file_link_expired(connection& c, std::int64_t file_id, std::string_view owner, std::string_view reason, millis now) {
    throw pg_error("pg_files: not built yet", "", false);
}

} // namespace stemd::storage::pg
