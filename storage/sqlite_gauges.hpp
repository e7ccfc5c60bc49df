#pragma once

// The SQLite store's counts for GET /metrics (see store::gauges). Throws
// sqlite_error when SQLite fails.

#include "common/error.hpp"
#include "storage/store.hpp"

#include <string>

namespace stemd::storage {
class database;
}

namespace stemd::storage::sqlite {

result<store_gauges> gauges(database& db);

// The one statement gauges() runs (for checking its query plan).
const std::string& gauges_sql();

} // namespace stemd::storage::sqlite
