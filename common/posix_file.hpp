#pragma once

// The few POSIX file operations durability depends on, with errno kept.

#include <cstddef>
#include <filesystem>

namespace stemd {

// Owns a file descriptor; closes it once.
class unique_fd {
public:
    unique_fd() = default;
    explicit unique_fd(int fd) noexcept : fd_(fd) {}
    unique_fd(unique_fd&& o) noexcept : fd_(o.release()) {}
    unique_fd& operator=(unique_fd&& o) noexcept;
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd();

    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    int release() noexcept;
    // Closes now and returns close()'s errno (0 on success): a write error
    // can surface only here on some file systems.
    int close() noexcept;

private:
    int fd_ = -1;
};

// Writes all `size` bytes, retrying short writes and EINTR; false with
// errno set when the system refuses (ENOSPC, EFBIG, EIO, ...).
bool write_all(int fd, const void* data, std::size_t size) noexcept;

// fsync of a directory, which makes a rename or a new entry in it durable.
// Returns 0, or the errno of open() or fsync().
int fsync_directory(const std::filesystem::path& dir) noexcept;

// True when `file` exists and its group or other users have any permission
// on it (read, write or execute): a file holding a secret should be 0600.
// False when it does not exist or cannot be examined.
bool open_to_others(const std::filesystem::path& file) noexcept;

} // namespace stemd
