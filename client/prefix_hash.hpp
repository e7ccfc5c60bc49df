#pragma once

// Hashing the bytes a resumed .part already holds (up to the download size
// limit, GiBs) on a worker thread, so the io thread (webhooks, the local
// API) is never stalled by it. Included only by .cpp files.

#include "common/crypto.hpp"
#include "common/error.hpp"
#include "common/posix_file.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>

namespace stemd::client {

// The SHA-256 state after the first `keep` bytes read from `fd`
// (partial_file::hash_prefix), computed on one worker thread shared by all
// downloads; the caller resumes on its own executor. Should the caller go
// away first (a shutdown), the worker stops at its next chunk and its
// answer is dropped: it never touches the caller's io_context afterwards.
boost::asio::awaitable<result<sha256>> hash_prefix_on_worker(unique_fd fd, std::uint64_t keep,
                                                             std::filesystem::path shown);

// For tests: `hook` runs on the worker just before each hash and the hash
// waits for it to return, so a test can hold a hash under way for as long
// as it needs instead of hoping to catch a fast one half-way. Empty (the
// default): nothing runs.
void set_before_hash_hook(std::function<void()> hook);

} // namespace stemd::client
