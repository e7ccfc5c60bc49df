#include "storage/pg_activity.hpp"

#include "storage/pg_connection.hpp"

// Not built yet: every call fails loudly (replaced by the real statements).

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace stemd::storage::pg {

result<activity> activity_since(connection& c, millis since) {
    throw pg_error("pg_activity: not built yet", "", false);
}

} // namespace stemd::storage::pg
