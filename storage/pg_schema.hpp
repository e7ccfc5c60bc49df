#pragma once

// The PostgreSQL schema of the store and its migrations. The version is kept
// in the table stemd_schema; each migration brings it one step further.

#include "common/error.hpp"

namespace stemd::storage::pg {
class connection;
}

namespace stemd::storage::pg {

// The version this stemd writes.
int schema_version() noexcept;

// Brings the schema up to date in one transaction under an advisory lock
// (two processes starting at once migrate once); newer_schema, naming both
// versions, when a newer stemd wrote the database. Throws pg_error when
// PostgreSQL fails.
result<void> migrate(connection& c);

} // namespace stemd::storage::pg
