#pragma once

// GET and HEAD /v1/jobs/{key}/files/{file}: a downloaded stem, whole or a
// byte range of it (RFC 9110 range requests), with a strong ETag from its
// SHA-256, streamed from disk in bounded chunks. Included only by .cpp
// files (listener types).

#include "listener/http_server.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace stemd::jobs {
class service;
}

namespace stemd::server {

// What a Range header asks of a file of `size` bytes.
struct byte_range {
    enum class kind {
        whole,        // no usable Range (absent, another unit, malformed, several ranges)
        partial,      // bytes first..last, both inclusive, within the file
        unsatisfiable // a single range that starts at or beyond the end (or "-0")
    };
    kind what = kind::whole;
    std::uint64_t first = 0;
    std::uint64_t last = 0;
};

// Reads one Range header value ("bytes=a-b", "bytes=a-", "bytes=-n"). A
// header the server may ignore under RFC 9110 (malformed, another unit,
// a-b with b < a) is `whole`, as are several ranges (the whole file is an
// allowed answer to them). `last` is clipped to the end of the file; a
// suffix longer than the file is the whole file as a range.
byte_range parse_range(std::string_view header, std::uint64_t size);

// The answer for the path when it is /v1/jobs/{key}/files/{file} (one
// segment, "wav%2Fvocals"), nullopt for any other path.
std::optional<listener::reply> file_reply(jobs::service& service, const listener::request& req,
                                          std::string_view encoded_path);

} // namespace stemd::server
