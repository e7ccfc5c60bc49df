#include "storage/pg_rows.hpp"

// Not built yet: every call fails loudly (replaced by the real statements).

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace stemd::storage::pg {

std::string sql(std::initializer_list<std::string_view> parts) {
    throw pg_error("pg_rows: not built yet", "", false);
}

const std::string& final_job_states() {
    throw pg_error("pg_rows: not built yet", "", false);
}

job_record read_job(const rows& r, int row) {
    throw pg_error("pg_rows: not built yet", "", false);
}

file_record read_file(const rows& r, int row) {
    throw pg_error("pg_rows: not built yet", "", false);
}

std::vector<file_record> read_files(const rows& r) {
    throw pg_error("pg_rows: not built yet", "", false);
}

std::optional<job_record> select_job_by(connection& c, std::string_view column, std::string_view key) {
    throw pg_error("pg_rows: not built yet", "", false);
}

std::optional<job_record> select_job(connection& c, std::string_view id) {
    throw pg_error("pg_rows: not built yet", "", false);
}

std::optional<job_record> select_job_by_key(connection& c, std::string_view key) {
    throw pg_error("pg_rows: not built yet", "", false);
}

std::vector<file_record> select_files(connection& c, std::string_view job_id) {
    throw pg_error("pg_rows: not built yet", "", false);
}

std::optional<file_record> select_file(connection& c, std::int64_t id) {
    throw pg_error("pg_rows: not built yet", "", false);
}

job_record with_files(connection& c, job_record j) {
    throw pg_error("pg_rows: not built yet", "", false);
}

job_record reload(connection& c, std::string_view id) {
    throw pg_error("pg_rows: not built yet", "", false);
}

std::vector<job_record> read_jobs_with_files(connection& c, const rows& r) {
    throw pg_error("pg_rows: not built yet", "", false);
}

void set_job_status(connection& c, std::string_view id, job_status status, std::string_view error, millis now) {
    throw pg_error("pg_rows: not built yet", "", false);
}

void touch_job(connection& c, std::string_view id, millis now) {
    throw pg_error("pg_rows: not built yet", "", false);
}

file_counts count_files(connection& c, std::string_view job_id) {
    throw pg_error("pg_rows: not built yet", "", false);
}

std::string file_failure_reason(const file_record& f) {
    throw pg_error("pg_rows: not built yet", "", false);
}

std::optional<file_record> first_failed_file(connection& c, std::string_view job_id) {
    throw pg_error("pg_rows: not built yet", "", false);
}

} // namespace stemd::storage::pg
