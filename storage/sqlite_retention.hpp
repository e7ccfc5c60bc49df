#pragma once

// The SQLite store's retention: which final jobs may go, deleting them in
// small transactions, and giving the freed pages back with incremental
// vacuum (see store.hpp). Each function throws sqlite_error when SQLite
// fails.

#include "common/error.hpp"
#include "storage/records.hpp"

#include <string_view>
#include <vector>

namespace stemd::storage {
class database;
}

namespace stemd::storage::sqlite {

result<std::vector<job_record>> prunable_jobs(database& db, millis cutoff,
                                              std::string_view after_id, int limit);
result<prune_batch> prune_final_jobs(database& db, millis cutoff, millis now, int limit);
result<compaction> compact(database& db, int pages);
result<bool> use_incremental_vacuum(database& db);

} // namespace stemd::storage::sqlite
