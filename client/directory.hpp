#pragma once

// A download's directory, opened once and then used by file descriptor, so
// that a symbolic link planted in the output tree is never followed: the
// files in it are opened by name relative to it with O_NOFOLLOW, renamed
// within it, and its subdirectories are created one component at a time.

#include "common/error.hpp"
#include "common/posix_file.hpp"

#include <filesystem>
#include <string>

namespace stemd::client {

class directory {
public:
    // Opens `root / below`. `root` is the operator's (configured) and is
    // followed as it is; it and any missing component of it are created.
    // Each component of `below` is created if missing and opened without
    // following a link: a symbolic link there is refused (client::error::
    // file_io naming it). Whenever an entry is created, the directory
    // holding it is fsync'd, so a new directory survives a crash as well as
    // the files later put in it. `below` must be relative, without "..".
    static result<directory> open(const std::filesystem::path& root,
                                  const std::filesystem::path& below);

    int fd() const noexcept { return fd_.get(); }
    const std::filesystem::path& path() const noexcept { return path_; }
    // For messages and results: path() / name.
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    directory(unique_fd fd, std::filesystem::path path)
        : fd_(std::move(fd)), path_(std::move(path)) {}

    unique_fd fd_;
    std::filesystem::path path_;
};

} // namespace stemd::client
