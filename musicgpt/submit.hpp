#pragma once

// POST {version}/Extraction: the form stemd sends and the answer it gets.

#include "common/error.hpp"
#include "musicgpt/refusal.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stemd::musicgpt {

// Bytes to upload: [offset, offset + length) of a descriptor the caller
// opened and keeps open until the submission returns (it is read with
// pread, so its file offset does not matter), sent as `name`.
struct file_slice {
    int fd = -1;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    std::string name; // the filename in the form, and its Content-Type's source

    bool empty() const { return fd < 0; }
};

struct submission {
    std::string audio_url;                  // either this
    file_slice audio_file;                  // or this (streamed from disk)
    std::string stems_json;                 // JSON list text, "" to omit
    std::string preprocessing_options_json; // JSON list text, "" to omit
    bool eco_mode = false;                  // sent for v2 only
    std::string webhook_url;                // "" to omit
};

struct form_field {
    std::string name;
    std::string value;
};

// The name of the form part that carries audio_file.
inline constexpr std::string_view audio_file_field = "audio_file";

// The text fields of the form for API version "v1" or "v2", in the order
// they are sent; a file, if any, follows them as part audio_file_field.
// Fields come first so that a server can refuse the job before the upload.
std::vector<form_field> submit_fields(const submission& s, std::string_view api_version);

struct submit_answer {
    std::string task_id;
    std::string conversion_id;
    std::optional<double> eta;
    std::optional<double> credit_estimate;
    std::string status; // "IN_QUEUE" for v2; "" for v1
};

// What MusicGPT answered: the job accepted (`accepted`), or `refused` set.
struct submit_reply {
    submit_answer accepted;
    std::optional<refusal> refused;
};

// Reads the answer to a submission. A 2xx JSON object without a task_id is
// error::bad_answer (condition unavailable).
result<submit_reply> read_submit_reply(unsigned http_status, std::string_view body);

} // namespace stemd::musicgpt
