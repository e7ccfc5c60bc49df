#pragma once

// The SQLite store's rate budgets: a token bucket per name in one row of
// `budgets` (see store.hpp: take_budget, pause_budget). Each function
// throws sqlite_error when SQLite fails.

#include "common/error.hpp"
#include "storage/store.hpp"

#include <string_view>

namespace stemd::storage {
class database;
}

namespace stemd::storage::sqlite {

result<budget_take> take_budget(database& db, std::string_view name, millis now, double capacity,
                                double per_second);
result<void> pause_budget(database& db, std::string_view name, millis until);

} // namespace stemd::storage::sqlite
