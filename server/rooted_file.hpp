#pragma once

// Opening a file a client names (the JSON field audio_file) only when it
// lies beneath a folder the configuration allows (api.file_roots), without
// following any symbolic link on the way, and only when it is a non-empty
// regular file. The descriptor opened here is the one that gets uploaded,
// so nothing can swap the file between the check and the upload.

#include "common/error.hpp"
#include "common/posix_file.hpp"

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

namespace stemd::server {

struct rooted_file {
    unique_fd fd;
    std::uint64_t size = 0;
};

// How refusals name the file and its roots: the request field and the
// setting the roots come from (a served stem is "file", storage.output_dir).
struct beneath_names {
    std::string_view what = "audio_file";
    std::string_view roots = "api.file_roots";
};

// `path` must be absolute, hold no "." or ".." component, and lie beneath one
// of `roots` (absolute, as config checks them); each component below the
// root is opened with openat(O_NOFOLLOW), the last one also with O_NONBLOCK
// so that a FIFO without a writer cannot block the daemon. Every refusal is
// server::error::file_refused (condition::invalid) with a message naming
// the path, the reason and what to do.
result<rooted_file> open_beneath(std::span<const std::filesystem::path> roots,
                                 std::string_view path, const beneath_names& names = {});

} // namespace stemd::server
