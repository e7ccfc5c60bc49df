#pragma once

// The PostgreSQL store's retention: which final jobs may go, deleting them in
// small transactions, and what compaction means here (autovacuum gives
// space back; see compact in pg_retention.cpp). Each function throws
// pg_error when PostgreSQL fails.

#include "common/error.hpp"
#include "storage/records.hpp"

#include <string_view>
#include <vector>

namespace stemd::storage::pg {
class connection;
}

namespace stemd::storage::pg {

result<std::vector<job_record>> prunable_jobs(connection& c, millis cutoff,
                                              std::string_view after_id, int limit);
result<prune_batch> prune_final_jobs(connection& c, millis cutoff, millis now, int limit);
// Gives space back to the operating system where the engine can (see pg_retention.cpp).
result<compaction> compact(connection& c, int pages);

} // namespace stemd::storage::pg
