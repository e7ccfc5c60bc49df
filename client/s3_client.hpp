#pragma once

// An S3-compatible object store, spoken to over client::connection with
// every request signed with AWS Signature Version 4 (common/sigv4.hpp).
// Enough of the API to stream a stem into a multipart upload, finish or
// abort it, find uploads left by a process that died, and serve, check or
// remove the object afterwards. Included only by .cpp files.

#include "client/connection.hpp"
#include "common/error.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace stemd::client {

struct s3_settings {
    // "https://s3.eu-west-1.amazonaws.com" or "http://127.0.0.1:9000": the
    // scheme, host and port requests go to. Buckets are addressed in the
    // path (https://host/bucket/key), which every S3-compatible server takes.
    std::string endpoint;
    std::string region = "us-east-1";
    std::string bucket;
    std::string access_key;
    std::string secret_key;
    std::string session_token; // "" when the credentials are not temporary
    connect_options connect;
};

// What HEAD says of an object.
struct s3_object {
    std::uint64_t size = 0;
    std::string etag;
    std::string content_type;
};

// The client::error code an S3 refusal is reported with, from its HTTP
// status and S3's error Code ("" when the answer had none). What passes
// once retried is server_busy (transient): RequestTimeout, BadDigest,
// XAmzContentSHA256Mismatch, RequestTimeTooSkewed, ExpiredToken, SlowDown,
// InternalError, ServiceUnavailable, any 5xx, 408 and 429, and NoSuchUpload
// when `upload_step` (a part upload or the completion: the attempt starts a
// new upload). Else 404 is not_found, anything other http_status (refused).
boost::system::error_code s3_error_code(unsigned status, std::string_view code, bool upload_step);

class s3_client {
public:
    s3_client(s3_settings s, boost::asio::ssl::context& tls);

    const s3_settings& settings() const noexcept { return settings_; }

    // POST /bucket/key?uploads -> the UploadId.
    boost::asio::awaitable<result<std::string>> create_upload(const std::string& key,
                                                              const std::string& content_type);
    // PUT /bucket/key?partNumber=N&uploadId=... -> the part's ETag. Parts
    // are numbered from 1; all but the last must be at least 5 MiB.
    boost::asio::awaitable<result<std::string>> upload_part(const std::string& key,
                                                            const std::string& upload_id,
                                                            int part_number,
                                                            std::span<const char> bytes);
    // POST /bucket/key?uploadId=... with the parts' ETags in order.
    boost::asio::awaitable<result<void>> complete_upload(const std::string& key,
                                                         const std::string& upload_id,
                                                         const std::vector<std::string>& etags);
    // DELETE /bucket/key?uploadId=...; an upload already gone is success.
    boost::asio::awaitable<result<void>> abort_upload(const std::string& key,
                                                      const std::string& upload_id);
    // GET /bucket?uploads&prefix=key: the UploadIds of unfinished uploads
    // of exactly `key`.
    boost::asio::awaitable<result<std::vector<std::string>>>
    unfinished_uploads(const std::string& key);

    // HEAD /bucket/key; not_found (client::error::http_status 404 -> the
    // condition not_found) when there is no such object.
    boost::asio::awaitable<result<s3_object>> head(const std::string& key);
    // DELETE /bucket/key; an object already gone is success.
    boost::asio::awaitable<result<void>> remove(const std::string& key);
    // GET /bucket/key into `file` (created 0600, fsync'd), for work that
    // needs the bytes on disk for a moment (decoding a waveform).
    boost::asio::awaitable<result<std::uint64_t>> fetch_to(const std::string& key,
                                                           const std::string& file);

    // A presigned URL of the object for `method` ("GET" or "HEAD": SigV4
    // signs the method, so a URL signed for one is refused for the other),
    // valid for `lifetime` (SigV4 query signing, no request made): what the
    // file endpoint redirects to.
    std::string presigned(std::string_view method, const std::string& key,
                          std::chrono::seconds lifetime,
                          std::optional<std::int64_t> now_unix = std::nullopt) const;
    std::string presigned_get(const std::string& key, std::chrono::seconds lifetime,
                              std::optional<std::int64_t> now_unix = std::nullopt) const {
        return presigned("GET", key, lifetime, now_unix);
    }

private:
    s3_settings settings_;
    boost::asio::ssl::context* tls_;
};

} // namespace stemd::client
