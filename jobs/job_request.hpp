#pragma once

// What a client asks the local API for (POST /v1/jobs), and its validator.

#include "common/error.hpp"

#include <string>
#include <string_view>

namespace stemd::jobs {

// A validated request: exactly one of audio_url and audio_file is set.
struct job_request {
    std::string audio_url;
    std::string audio_file;
    std::string stems_json;                 // JSON list of strings, "" when absent
    std::string preprocessing_options_json; // JSON list of strings, "" when absent
    bool eco_mode = false;
};

// From the raw body to a usable request. Failures are
// jobs::error::malformed_request (not JSON, or not an object) and
// jobs::error::invalid_request (an unknown field, a wrong type, neither or
// both sources, an audio_url that is not http(s), an audio_file that cannot
// be read), each with a message fit for the reply.
result<job_request> parse_job_request(std::string_view body);

} // namespace stemd::jobs
