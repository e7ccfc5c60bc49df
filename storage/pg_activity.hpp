#pragma once

// The PostgreSQL store's activity counts (see store::activity_since). Throws
// pg_error when PostgreSQL fails.

#include "common/error.hpp"
#include "storage/records.hpp"

namespace stemd::storage::pg {
class connection;
}

namespace stemd::storage::pg {

result<activity> activity_since(connection& c, millis since);

} // namespace stemd::storage::pg
