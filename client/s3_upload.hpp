#pragma once

// A sink that streams one body into an S3 multipart upload: bytes are
// buffered into parts and each part is uploaded as it fills, so the writer
// waits while a part is in flight (backpressure) and no more than one part
// is ever held in memory. Included only by .cpp files.

#include "client/s3_client.hpp"
#include "common/crypto.hpp"
#include "common/error.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace stemd::client {

// S3 refuses parts under 5 MiB except the last one.
inline constexpr std::size_t s3_min_part_size = std::size_t{5} << 20;
inline constexpr std::size_t s3_part_size = std::size_t{8} << 20;
// S3 numbers the parts of one upload from 1 to 10,000.
inline constexpr int s3_max_parts = 10000;

// The part size for a body of `length` bytes (when known): at least
// `smallest` (raised to 5 MiB), and large enough that the body fits in
// s3_max_parts parts, rounded up to a whole MiB. Unknown length: `smallest`
// (raised to 5 MiB), and the upload fails past part 10,000.
std::size_t s3_part_size_for(std::optional<std::uint64_t> length,
                             std::size_t smallest = s3_part_size);

struct s3_stored {
    std::string key;
    std::uint64_t bytes = 0;
    std::string sha256; // lowercase hex of every byte written
};

class s3_upload {
public:
    // `client` must outlive the upload. part_size is raised to 5 MiB.
    // `job_id` only labels the log lines ("" when there is none).
    s3_upload(s3_client& client, std::string key, std::uint64_t max_bytes,
              std::size_t part_size = s3_part_size, std::string job_id = {});
    s3_upload(const s3_upload&) = delete;
    s3_upload& operator=(const s3_upload&) = delete;

    const std::string& key() const noexcept { return key_; }
    std::uint64_t size() const noexcept { return bytes_; }

    // Aborts the unfinished uploads of exactly this key (left by a process
    // that died: the caller holds the file's claim, so none is live), then
    // starts a fresh one. That sweep is best-effort: when the uploads cannot
    // be listed or aborted (a policy without s3:ListBucketMultipartUploads
    // or s3:AbortMultipartUpload) it is logged and the upload goes on.
    boost::asio::awaitable<result<void>> begin(const std::string& content_type);
    // Appends bytes; uploads a part whenever one fills. More than max_bytes
    // in all, or more than s3_max_parts parts, aborts the upload and fails
    // with error::body_too_large.
    boost::asio::awaitable<result<void>> write(std::span<const char> bytes);
    // Uploads the last part and completes the upload when the length is
    // `expected_bytes` (when known) and the digest is `expected_sha256`
    // (when known); otherwise aborts it and fails.
    boost::asio::awaitable<result<s3_stored>>
    finish(std::optional<std::uint64_t> expected_bytes,
           std::optional<std::string> expected_sha256 = std::nullopt);
    // Drops the upload (every part stored so far); harmless when none is
    // open. Failure to abort is only logged: the next begin() of this key
    // aborts it again.
    boost::asio::awaitable<void> abort();

private:
    boost::asio::awaitable<result<void>> flush_part();

    s3_client& client_;
    std::string key_;
    std::string job_id_;
    std::uint64_t max_bytes_;
    std::size_t part_size_;
    std::string upload_id_; // "" when no upload is open
    std::vector<char> part_;
    std::vector<std::string> etags_;
    std::uint64_t bytes_ = 0;
    sha256 digest_;
};

} // namespace stemd::client
