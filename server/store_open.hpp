#pragma once

// The daemon's database: locked against a second daemon, opened, and its
// stale claims released.

#include "common/posix_file.hpp"
#include "storage/sqlite_store.hpp"

#include <filesystem>

namespace stemd::server {

struct locked_store {
    unique_fd lock; // held for the life of the process
    storage::sqlite_store store;
};

// Throws std::runtime_error with a clear message when another daemon holds
// the database or it cannot be opened (a start-up failure).
locked_store open_locked_store(const std::filesystem::path& database);

} // namespace stemd::server
