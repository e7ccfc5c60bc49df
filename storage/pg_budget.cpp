#include "storage/pg_budget.hpp"

#include "storage/pg_connection.hpp"

// Not built yet: every call fails loudly (replaced by the real statements).

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace stemd::storage::pg {

result<budget_take> take_budget(connection& c, std::string_view name, millis now, double capacity, double per_second) {
    throw pg_error("pg_budget: not built yet", "", false);
}

result<void> pause_budget(connection& c, std::string_view name, millis until) {
    throw pg_error("pg_budget: not built yet", "", false);
}

} // namespace stemd::storage::pg
