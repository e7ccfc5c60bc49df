#pragma once

// The PostgreSQL store's counts for GET /metrics (see store::gauges). Throws
// pg_error when PostgreSQL fails.

#include "common/error.hpp"
#include "storage/store.hpp"

#include <string>

namespace stemd::storage::pg {
class connection;
}

namespace stemd::storage::pg {

result<store_gauges> gauges(connection& c);

// The one statement gauges() runs (for checking its query plan).
const std::string& gauges_sql();

} // namespace stemd::storage::pg
