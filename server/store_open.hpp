#pragma once

// The daemon's store: a SQLite file locked against a second daemon, opened,
// and its stale claims released; or a PostgreSQL database that any number
// of daemons share (no lock, no release: other processes' claims are
// alive).

#include "common/posix_file.hpp"
#include "config/settings.hpp"
#include "storage/pg_connection.hpp"
#include "storage/store.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace stemd::server {

struct opened_store {
    unique_fd lock; // SQLite: held for the life of the process
    std::unique_ptr<storage::store> store;
    // PostgreSQL: how to reach it (for the LISTEN hint); none for SQLite.
    std::optional<storage::pg::connection_options> shared;
};

// How stemd reaches the PostgreSQL database `uri`: the systemd credential
// $CREDENTIALS_DIRECTORY/pgpass as libpq's password file when there is one
// and PGPASSFILE is not set (libpq's own PGPASSFILE or ~/.pgpass else).
storage::pg::connection_options pg_connection_options(const std::string& uri);

// Throws std::runtime_error with a clear message when another daemon holds
// the SQLite database, or the store cannot be opened (a start-up failure:
// PostgreSQL cannot be reached, or its schema is newer than this stemd's).
opened_store open_store(const config::storage_settings& s);

} // namespace stemd::server
