#pragma once

// The PostgreSQL store's job records: creation, submission, look-up, listing,
// adoption, stale submissions and retry (see store.hpp for each contract).
// Each function throws pg_error when PostgreSQL fails.

#include "common/error.hpp"
#include "storage/records.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stemd::storage::pg {
class connection;
}

namespace stemd::storage::pg {

result<job_record> create_job(connection& c, const new_job& j);
result<void> mark_submitted(connection& c, std::string_view job_id, std::string_view task_id,
                            std::string_view conversion_id, std::optional<double> eta,
                            std::optional<double> credit_estimate, std::string_view upstream_status,
                            std::optional<millis> poll_at);
result<void> mark_failed(connection& c, std::string_view job_id, std::string_view reason);
result<job_record> find(connection& c, std::string_view key);
result<job_record> find_by_token_hash(connection& c, std::string_view token_hash);
result<std::string> token_hash(connection& c, std::string_view job_id);
result<std::vector<job_record>> list(connection& c, std::optional<job_status> status, int limit,
                                     std::optional<millis> created_since);
result<job_page> list_page(connection& c, const page_query& q);
// The statement list_page runs, with or without a status (for the query
// plan test).
const std::string& page_sql(bool by_status);
result<job_record> adopt(connection& c, std::string_view task_id, std::string_view conversion_id);
result<std::vector<job_record>> stale_submitting(connection& c, millis created_before);
result<std::vector<job_record>> longest_waiting_open_jobs(connection& c, int limit);
result<job_record> give_up_submitting(connection& c, std::string_view job_id,
                                      std::string_view reason);
result<job_record> retry(connection& c, std::string_view key, millis now);

// Gives `job` the upstream ids it does not have yet, inside the caller's
// transaction. Refused (conflict) when the job already has a different id
// or another job owns the id.
result<void> assign_ids(connection& c, const job_record& job, std::string_view task_id,
                        std::string_view conversion_id, millis now);

} // namespace stemd::storage::pg
