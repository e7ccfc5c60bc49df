#pragma once

// Streams one remote file to disk. Included only by .cpp files.

#include "client/connection.hpp"
#include "client/progress.hpp"
#include "common/error.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace stemd::client {

struct download_options {
    connect_options connect;
    std::uint64_t max_bytes = std::uint64_t{2} << 30; // per file
    int max_redirects = 5;
    // The whole download, redirects and all: a server trickling bytes just
    // often enough to never stall past connect.io_timeout is cut off here
    // (checked as bytes arrive, so at most io_timeout late).
    std::chrono::milliseconds max_duration{3'600'000};
    // Told the size of each piece of a body written to disk, as it is
    // written (a progress count for the daemon's status); may be empty.
    std::function<void(std::uint64_t)> on_bytes;
};

struct download_request {
    std::string url;                 // signed link (never logged whole)
    std::filesystem::path directory; // created if missing
    // The part of `directory` trusted as it is (the configured output
    // directory): the components of `directory` below it are created and
    // opened without following a symbolic link. Empty: `directory` itself.
    std::filesystem::path root;
    std::string name; // safe base name without extension
    // Extension to use when neither the URL path nor Content-Type gives one.
    std::string fallback_extension = "bin";
    // Updated as bytes arrive when not null (the caller keeps it alive
    // for the download): a table for people watching, not a record.
    download_progress* progress = nullptr;
};

struct download_result {
    std::filesystem::path path; // final {directory}/{name}.{ext}
    std::uint64_t bytes = 0;
    std::string sha256;             // lowercase hex of the whole file
    std::uint64_t resumed_from = 0; // bytes kept from an earlier .part
    bool already_complete = false;  // found complete on disk, nothing fetched
};

// Downloads `r.url` to {directory}/{name}.{ext}: the extension comes from the
// URL path, else from Content-Type, else fallback_extension. Bytes go to
// "{name}.{ext}.part" as they arrive (never whole in memory); an existing
// .part is resumed with Range when the server answers 206 with a matching
// Content-Range, else restarted from zero. The length is checked against
// Content-Length/Content-Range, then the file is fsync'd, renamed and its
// directory fsync'd: the final name exists only for complete files, which
// is why a final file already on disk is taken as it is (already_complete).
// Redirects are followed up to max_redirects, each hop vetted like the first.
// Failures are client::error codes whose condition says whether trying
// again can help (stemd::error::transient()); error::link_expired
// (401/403/404/410) means the signed link needs refreshing; error::too_slow
// (transient) that max_duration ran out, the .part kept for a resume.
// Files are opened through the directory's descriptor and never through a
// link; the .part is locked while written, so a second download of the
// same file fails (error::file_io, transient) instead of interleaving.
// A resumed prefix is hashed on a worker thread, not the caller's.
boost::asio::awaitable<result<download_result>> download(const download_request& r,
                                                         const download_options& options,
                                                         boost::asio::ssl::context& tls);

} // namespace stemd::client
