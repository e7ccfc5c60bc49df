#pragma once

// What a client asks the local API for (POST /v1/jobs), and its validator.

#include "common/error.hpp"
#include "musicgpt/submit.hpp"

#include <string>
#include <string_view>

namespace stemd::jobs {

// A validated request: exactly one of audio_url and audio_file is set.
// `audio_file` is only a name (recorded, logged); what gets uploaded is
// `upload`, which the caller opens (see server/rooted_file.hpp) and keeps
// open until service::submit returns.
struct job_request {
    std::string audio_url;
    std::string audio_file;
    musicgpt::file_slice upload;
    std::string stems_json;                 // JSON list of strings, "" when absent
    std::string preprocessing_options_json; // JSON list of strings, "" when absent
    bool eco_mode = false;
};

// From the raw body to a usable request. Failures are
// jobs::error::malformed_request (not JSON, or not an object) and
// jobs::error::invalid_request (an unknown field, a wrong type, neither or
// both sources, an audio_url that is not http(s)), each with a message fit
// for the reply. An audio_file is only read as text here: whether stemd
// may open it is the caller's decision, and `upload` is left empty.
result<job_request> parse_job_request(std::string_view body);

// The options part of an upload: a JSON object with only stems,
// preprocessing_options and eco_mode ("" means none). The same failures.
result<job_request> parse_job_options(std::string_view body);

} // namespace stemd::jobs
