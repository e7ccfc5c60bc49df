#pragma once

// The file a spooled request body (listener::spool_route) is written to.

#include "common/posix_file.hpp"

#include <filesystem>

namespace stemd::listener {

// Removed when the request is done with it (whoever has opened it keeps
// reading it).
struct spool_file {
    std::filesystem::path path;
    unique_fd fd;

    spool_file() = default;
    spool_file(const spool_file&) = delete;
    spool_file& operator=(const spool_file&) = delete;
    ~spool_file();
};

// A new file in `dir` only this process can read (O_EXCL: never an
// existing one). False with errno set when it cannot be created.
bool create_spool(const std::filesystem::path& dir, spool_file& f);

} // namespace stemd::listener
