#pragma once

// The body of POST /v1/jobs as multipart/form-data, once the listener has
// spooled it to a file: the audio part stays on disk (its place in the
// file is what gets uploaded to MusicGPT) and only the small options part
// is read. The spooled file is unlinked once opened: the descriptor holds
// the bytes until the job is submitted or failed.
//
// Parts: `audio_file` (required: the bytes, with a filename) and `options`
// (optional: a JSON object with stems, preprocessing_options, eco_mode, as
// in the JSON form of the request). Any other part is refused.

#include "common/error.hpp"
#include "common/posix_file.hpp"
#include "musicgpt/submit.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace stemd::server {

struct upload {
    unique_fd fd;              // the spooled file, open for reading
    musicgpt::file_slice file; // the audio part within it (file.fd is fd)
    std::string options_json;  // the options part, "" when absent
};

// server::error::bad_request (400) for a body that is not multipart/form-data
// as RFC 7578 says, server::error::file_refused (422) for a form without a
// usable audio_file part or with an unknown part; each says what is wrong.
result<upload> read_upload(const std::filesystem::path& spooled, std::string_view content_type);

} // namespace stemd::server
