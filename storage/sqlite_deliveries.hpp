#pragma once

// The SQLite store's webhook replay guard (see store::remember_delivery).
// Each function throws sqlite_error when SQLite fails.

#include "common/error.hpp"
#include "storage/records.hpp"

#include <string_view>

namespace stemd::storage {
class database;
}

namespace stemd::storage::sqlite {

result<bool> remember_delivery(database& db, std::string_view webhook_id, millis now);
result<bool> seen_delivery(database& db, std::string_view webhook_id);
// Forgets the ids older than the replay guard needs at `now`, inside the
// caller's transaction; returns how many.
int forget_deliveries(database& db, millis now);

} // namespace stemd::storage::sqlite
