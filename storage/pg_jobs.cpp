#include "storage/pg_jobs.hpp"

#include "storage/pg_connection.hpp"

// Not built yet: every call fails loudly (replaced by the real statements).

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace stemd::storage::pg {

result<job_record> create_job(connection& c, const new_job& j) {
    throw pg_error("pg_jobs: not built yet", "", false);
}

result<void> mark_submitted(connection& c, std::string_view job_id, std::string_view task_id, std::string_view conversion_id, std::optional<double> eta, std::optional<double> credit_estimate, std::string_view upstream_status, std::optional<millis> poll_at) {
    throw pg_error("pg_jobs: not built yet", "", false);
}

result<void> mark_failed(connection& c, std::string_view job_id, std::string_view reason) {
    throw pg_error("pg_jobs: not built yet", "", false);
}

result<job_record> find(connection& c, std::string_view key) {
    throw pg_error("pg_jobs: not built yet", "", false);
}

result<job_record> find_by_token_hash(connection& c, std::string_view token_hash) {
    throw pg_error("pg_jobs: not built yet", "", false);
}

result<std::string> token_hash(connection& c, std::string_view job_id) {
    throw pg_error("pg_jobs: not built yet", "", false);
}

result<std::vector<job_record>> list(connection& c, std::optional<job_status> status, int limit, std::optional<millis> created_since) {
    throw pg_error("pg_jobs: not built yet", "", false);
}

result<job_page> list_page(connection& c, const page_query& q) {
    throw pg_error("pg_jobs: not built yet", "", false);
}

const std::string& page_sql(bool by_status) {
    throw pg_error("pg_jobs: not built yet", "", false);
}

result<job_record> adopt(connection& c, std::string_view task_id, std::string_view conversion_id) {
    throw pg_error("pg_jobs: not built yet", "", false);
}

result<std::vector<job_record>> stale_submitting(connection& c, millis created_before) {
    throw pg_error("pg_jobs: not built yet", "", false);
}

result<std::vector<job_record>> longest_waiting_open_jobs(connection& c, int limit) {
    throw pg_error("pg_jobs: not built yet", "", false);
}

result<job_record> give_up_submitting(connection& c, std::string_view job_id, std::string_view reason) {
    throw pg_error("pg_jobs: not built yet", "", false);
}

result<job_record> retry(connection& c, std::string_view key, millis now) {
    throw pg_error("pg_jobs: not built yet", "", false);
}

result<void> assign_ids(connection& c, const job_record& job, std::string_view task_id, std::string_view conversion_id, millis now) {
    throw pg_error("pg_jobs: not built yet", "", false);
}

} // namespace stemd::storage::pg
