#pragma once

// The PostgreSQL store's rate budgets: a token bucket per name in one row,
// shared by every process (see store.hpp: take_budget, pause_budget).
// Each function throws pg_error when PostgreSQL fails.

#include "common/error.hpp"
#include "storage/store.hpp"

#include <string_view>

namespace stemd::storage::pg {
class connection;

result<budget_take> take_budget(connection& c, std::string_view name, millis now, double capacity,
                                double per_second);
result<void> pause_budget(connection& c, std::string_view name, millis until);
} // namespace stemd::storage::pg
