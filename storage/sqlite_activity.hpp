#pragma once

// The SQLite store's activity counts (see store::activity_since). Throws
// sqlite_error when SQLite fails.

#include "common/error.hpp"
#include "storage/records.hpp"

namespace stemd::storage {
class database;
}

namespace stemd::storage::sqlite {

result<activity> activity_since(database& db, millis since);

} // namespace stemd::storage::sqlite
