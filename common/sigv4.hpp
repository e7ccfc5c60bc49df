#pragma once

// AWS Signature Version 4 over OpenSSL's HMAC-SHA256: a pure function from
// a request's parts to its Authorization header (or presigned query), so
// it is checked against AWS's published test vectors without a network.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stemd::sigv4 {

struct credentials {
    std::string access_key;
    std::string secret_key;
    std::string session_token; // "" unless temporary
};

struct scope {
    std::string region;  // "us-east-1"
    std::string service; // "s3"
};

// One request as it will be sent. `path` is already URI-encoded as it goes
// on the wire ("/bucket/a%20b"); query parameters are raw (unencoded)
// name/value pairs; headers are name/value pairs (any case), of which
// every one given is signed, so pass only those the server sees unchanged
// (host, x-amz-*, content-type, range ...).
struct request {
    std::string method;
    std::string path;
    std::vector<std::pair<std::string, std::string>> query;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string payload_sha256; // hex, or "UNSIGNED-PAYLOAD"
};

// "20150830T123600Z" for a Unix time in seconds.
std::string amz_date(std::int64_t unix_seconds);

// The pieces, exposed for the test vectors.
std::string canonical_request(const request& r);
std::string string_to_sign(const request& r, const scope& s, const std::string& amz_date);
std::string signature(const request& r, const scope& s, const credentials& c,
                      const std::string& amz_date);

// The Authorization header value for `r` (which must already carry the
// host and x-amz-date headers, and x-amz-content-sha256 for S3).
std::string authorization(const request& r, const scope& s, const credentials& c,
                          const std::string& amz_date);

// The query string (already encoded, without "?") that makes `r` (a GET
// with only the host header) valid for `expires_seconds` without headers.
std::string presigned_query(const request& r, const scope& s, const credentials& c,
                            const std::string& amz_date, std::int64_t expires_seconds);

// The query in canonical form: names and values uri_encode'd, sorted by
// name then value, joined with '&'. Also what the client puts on the wire,
// so what is sent is exactly what was signed.
std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query);

// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, every
// other byte %XX in upper case; '/' kept when `keep_slash`.
std::string uri_encode(std::string_view s, bool keep_slash);

} // namespace stemd::sigv4
