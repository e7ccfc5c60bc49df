#include "storage/pg_gauges.hpp"

#include "storage/pg_connection.hpp"

// Not built yet: every call fails loudly (replaced by the real statements).

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace stemd::storage::pg {

result<store_gauges> gauges(connection& c) {
    throw pg_error("pg_gauges: not built yet", "", false);
}

const std::string& gauges_sql() {
    throw pg_error("pg_gauges: not built yet", "", false);
}

} // namespace stemd::storage::pg
