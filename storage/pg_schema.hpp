#pragma once

// The PostgreSQL schema of the store and its migrations. The version is kept
// in PRAGMA user_version; each migration brings it one step further.

#include "common/error.hpp"


namespace stemd::storage::pg {
class connection;
}

namespace stemd::storage::pg {

// The version this stemd writes.
int schema_version() noexcept;

// Brings the schema of `db` (opened on `file`) up to date in one BEGIN
// IMMEDIATE transaction; newer_schema, naming both versions, when the file
// was written by a newer stemd. Throws pg_error when PostgreSQL fails.
result<void> migrate(connection& c);

} // namespace stemd::storage::pg
