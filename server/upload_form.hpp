#pragma once

// The body of POST /v1/jobs as multipart/form-data, once the listener has
// spooled it to a file: the audio part stays on disk (its place in the
// file is what gets uploaded to MusicGPT) and only the options part (at
// most options_max_bytes) is copied into memory. The file is mapped and
// scanned on a worker thread, never the io thread. The spooled file is
// unlinked once opened: the descriptor holds the bytes until the job is
// submitted or failed.
//
// Parts: `audio_file` (required: the bytes, with a filename) and `options`
// (optional: a JSON object with stems, preprocessing_options, eco_mode, as
// in the JSON form of the request). Any other part is refused.

#include "common/error.hpp"
#include "common/posix_file.hpp"
#include "musicgpt/submit.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace stemd::server {

struct upload {
    unique_fd fd;              // the spooled file, open for reading
    musicgpt::file_slice file; // the audio part within it (file.fd is fd)
    std::string options_json;  // the options part, "" when absent
};

// The options part is the only one copied into memory; larger is refused.
inline constexpr std::size_t options_max_bytes = 64 * 1024;

// server::error::bad_request (400) for a body that is not multipart/form-data
// as RFC 7578 says; server::error::file_refused (422) for a form without a
// usable audio_file part (none, empty, a filename with no last component or
// with a control character) or with an unknown part;
// server::error::part_too_large (413) for an options part over
// options_max_bytes; server::error::upload_unreadable (500) when the spooled
// file cannot be opened again. Each says what is wrong.
result<upload> read_upload(const std::filesystem::path& spooled, std::string_view content_type);

// read_upload on a worker thread: scanning a form of up to
// api.upload_max_bytes for its boundaries reads every byte of it, which
// would hold the io thread (webhooks, the rest of the API) meanwhile.
boost::asio::awaitable<result<upload>> read_upload_on_worker(std::filesystem::path spooled,
                                                             std::string content_type);

} // namespace stemd::server
