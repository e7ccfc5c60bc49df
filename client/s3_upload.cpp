#include "client/s3_upload.hpp"

#include "client/error.hpp"
#include "common/log.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stemd::client {

namespace net = boost::asio;

namespace {

stemd::error fail(error e, std::string message) {
    return {make_error_code(e), std::move(message)};
}

constexpr std::uint64_t mib = std::uint64_t{1} << 20;

} // namespace

std::size_t s3_part_size_for(std::optional<std::uint64_t> length, std::size_t smallest) {
    const std::uint64_t least = std::max(smallest, s3_min_part_size);
    if (!length)
        return static_cast<std::size_t>(least);
    const std::uint64_t parts = static_cast<std::uint64_t>(s3_max_parts);
    // ceil(length / parts), then up to a whole MiB; no overflow for any
    // length a download may have (max_bytes is far below 2^64).
    const std::uint64_t needed = *length / parts + (*length % parts != 0 ? 1 : 0);
    const std::uint64_t rounded = (needed / mib + (needed % mib != 0 ? 1 : 0)) * mib;
    return static_cast<std::size_t>(std::max(least, rounded));
}

s3_upload::s3_upload(s3_client& client, std::string key, std::uint64_t max_bytes,
                     std::size_t part_size, std::string job_id)
    : client_(client), key_(std::move(key)), job_id_(std::move(job_id)), max_bytes_(max_bytes),
      part_size_(std::max(part_size, s3_min_part_size)) {
    part_.reserve(part_size_);
}

net::awaitable<result<void>> s3_upload::begin(const std::string& content_type) {
    // Best-effort: an upload left behind only costs storage until the
    // bucket's lifecycle rule (or a later sweep) removes it, while failing
    // here would fail every file under a policy that may write but not list
    // uploads. The messages hold no secrets (s3_client redacts them).
    std::vector<std::string> ids;
    auto leftovers = co_await client_.unfinished_uploads(key_);
    if (leftovers)
        ids = std::move(*leftovers);
    else
        log_warning(job_id_, "cannot look for unfinished uploads of " + key_ + " (" +
                                 leftovers.error().message +
                                 "); uploading anyway. Any upload an earlier run left behind "
                                 "stays until a lifecycle rule of the bucket aborts it; allow "
                                 "s3:ListBucketMultipartUploads to have stemd abort them");
    for (const auto& id : ids) {
        if (auto gone = co_await client_.abort_upload(key_, id); !gone)
            log_warning(job_id_, "cannot abort an unfinished upload of " + key_ +
                                     " left by an earlier run (" + gone.error().message +
                                     "); uploading anyway. It stays until a lifecycle rule of "
                                     "the bucket aborts it");
        else
            log_info(job_id_,
                     "aborted an unfinished upload of " + key_ + " left by an earlier run");
    }
    auto created = co_await client_.create_upload(key_, content_type);
    if (!created)
        co_return created.error();
    upload_id_ = std::move(*created);
    co_return result<void>{};
}

// Every failure below aborts the upload first. The error is named before
// each co_await, never a temporary of it: GCC 12 destroys such temporaries
// twice.
net::awaitable<result<void>> s3_upload::write(std::span<const char> bytes) {
    if (upload_id_.empty())
        throw std::logic_error("s3_upload::write before begin");
    if (bytes_ + bytes.size() > max_bytes_) {
        auto why = fail(error::body_too_large,
                        "uploading " + key_ + ": the file has at least " +
                            std::to_string(bytes_ + bytes.size()) +
                            " bytes, more than the limit of " + std::to_string(max_bytes_) +
                            "; raise download.max_bytes if files are this large");
        co_await abort();
        co_return why;
    }
    digest_.update(std::string_view(bytes.data(), bytes.size()));
    bytes_ += bytes.size();
    while (!bytes.empty()) {
        const auto room = part_size_ - part_.size();
        const auto n = std::min(room, bytes.size());
        part_.insert(part_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
        bytes = bytes.subspan(n);
        if (part_.size() < part_size_)
            continue;
        auto sent = co_await flush_part();
        if (!sent) {
            co_await abort();
            co_return sent;
        }
    }
    co_return result<void>{};
}

net::awaitable<result<void>> s3_upload::flush_part() {
    if (etags_.size() >= static_cast<std::size_t>(s3_max_parts))
        co_return fail(error::body_too_large,
                       "uploading " + key_ + ": the file needs more than S3's limit of " +
                           std::to_string(s3_max_parts) + " parts of " +
                           std::to_string(part_size_) + " bytes (" + std::to_string(bytes_) +
                           " bytes so far, of unknown length); the upload was aborted. Files "
                           "this large need a server that sends Content-Length");
    auto etag = co_await client_.upload_part(key_, upload_id_, static_cast<int>(etags_.size()) + 1,
                                             {part_.data(), part_.size()});
    if (!etag)
        co_return etag.error();
    etags_.push_back(std::move(*etag));
    part_.clear();
    co_return result<void>{};
}

net::awaitable<result<s3_stored>> s3_upload::finish(std::optional<std::uint64_t> expected_bytes,
                                                    std::optional<std::string> expected_sha256) {
    if (upload_id_.empty())
        throw std::logic_error("s3_upload::finish before begin");
    const std::string digest = digest_.finish_hex();
    std::optional<stemd::error> refused;
    if (expected_bytes && bytes_ != *expected_bytes)
        refused = fail(error::length_mismatch, "uploading " + key_ + ": received " +
                                                   std::to_string(bytes_) + " bytes of " +
                                                   std::to_string(*expected_bytes) +
                                                   "; the upload was aborted and is retried whole");
    else if (expected_sha256 && *expected_sha256 != digest)
        refused = fail(error::bad_response, "uploading " + key_ + ": the SHA-256 of the " +
                                                std::to_string(bytes_) + " bytes is " + digest +
                                                ", not the expected " + *expected_sha256 +
                                                "; the upload was aborted and is retried whole");
    // The last part may be short; an empty body still needs one part.
    if (!refused && (!part_.empty() || etags_.empty())) {
        auto sent = co_await flush_part();
        if (!sent)
            refused = sent.error();
    }
    if (!refused) {
        auto done = co_await client_.complete_upload(key_, upload_id_, etags_);
        if (!done)
            refused = done.error();
    }
    if (refused) {
        co_await abort();
        co_return *refused;
    }
    upload_id_.clear();
    co_return s3_stored{key_, bytes_, digest};
}

net::awaitable<void> s3_upload::abort() {
    if (upload_id_.empty())
        co_return;
    const std::string id = std::exchange(upload_id_, "");
    part_.clear();
    if (auto gone = co_await client_.abort_upload(key_, id); !gone)
        log_warning(job_id_, "cannot abort the upload of " + key_ + " (" + gone.error().message +
                                 "); the next attempt at this file aborts it");
}

} // namespace stemd::client
