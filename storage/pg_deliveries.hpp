#pragma once

// The PostgreSQL store's webhook replay guard (see store::remember_delivery).
// Each function throws pg_error when PostgreSQL fails.

#include "common/error.hpp"
#include "storage/records.hpp"

#include <string_view>

namespace stemd::storage::pg {
class connection;
}

namespace stemd::storage::pg {

result<bool> remember_delivery(connection& c, std::string_view webhook_id, millis now);
result<bool> seen_delivery(connection& c, std::string_view webhook_id);
// Forgets the ids older than the replay guard needs at `now`, inside the
// caller's transaction; returns how many.
int forget_deliveries(connection& c, millis now);

} // namespace stemd::storage::pg
