#include "storage/pg_retention.hpp"

#include "storage/pg_connection.hpp"

// Not built yet: every call fails loudly (replaced by the real statements).

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace stemd::storage::pg {

result<std::vector<job_record>> prunable_jobs(connection& c, millis cutoff, std::string_view after_id, int limit) {
    throw pg_error("pg_retention: not built yet", "", false);
}

result<prune_batch> prune_final_jobs(connection& c, millis cutoff, millis now, int limit) {
    throw pg_error("pg_retention: not built yet", "", false);
}

} // namespace stemd::storage::pg

namespace stemd::storage::pg {
result<compaction> compact(connection& c, int pages) {
    throw pg_error("pg_retention: not built yet", "", false);
}
} // namespace stemd::storage::pg
