#pragma once

// The SQLite schema of the store and its migrations. The version is kept
// in PRAGMA user_version; each migration brings it one step further.

#include "common/error.hpp"

#include <filesystem>

namespace stemd::storage {
class database;
}

namespace stemd::storage::sqlite {

// The version this stemd writes.
int schema_version() noexcept;

// Brings the schema of `db` (opened on `file`) up to date in one BEGIN
// IMMEDIATE transaction; newer_schema, naming both versions, when the file
// was written by a newer stemd. Throws sqlite_error when SQLite fails.
result<void> migrate(database& db, const std::filesystem::path& file);

} // namespace stemd::storage::sqlite
