#include "storage/pg_schema.hpp"

#include "storage/pg_connection.hpp"

// Not built yet: every call fails loudly (replaced by the real statements).

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace stemd::storage::pg {

int schema_version() noexcept { return 0; }

result<void> migrate(connection& c) {
    throw pg_error("pg_schema: not built yet", "", false);
}

} // namespace stemd::storage::pg
