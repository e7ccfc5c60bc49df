#pragma once

// A job's downloaded file as the API serves it: found by the job's key and
// the file's name as the job JSON shows it ("vocals", "wav/vocals"), opened
// read-only below storage.output_dir one component at a time without
// following a link, and checked against what the store recorded. The
// descriptor is the one to read from, so nothing swapped in afterwards is
// served.

#include "common/error.hpp"
#include "common/posix_file.hpp"
#include "storage/records.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stemd::jobs {
class service;
}

namespace stemd::server {

struct stem_file {
    storage::file_record record;
    unique_fd fd;           // read-only, a regular file of record.bytes bytes
    std::uint64_t size = 0; // == record.bytes
    std::string media_type; // from the file's extension (client::audio_content_type)
};

// The file's href: /v1/jobs/<job id>/files/<name>, the name one path segment
// (its '/' percent-encoded, "wav%2Fvocals").
std::string file_href(const storage::file_record& f);

// What a request path /v1/jobs/{key}/files/{file}[/{rest}] names, each
// segment decoded; nullopt for any other path. `rest` is "" or the one
// segment after the file (e.g. "waveform").
struct file_target {
    std::string key;
    std::string file;
    std::string rest;
};
std::optional<file_target> parse_file_target(std::string_view encoded_path);

// The done file `file` of the job `key` (stemd id, task_id or conversion_id).
// Errors: not_found for an unknown job (the store's) or a name the job does
// not have, or a file gone from disk (server::error::no_such_file, naming
// it); server::error::file_not_ready (409) for a file not done yet;
// server::error::file_withheld (403) when the path is not below output_dir,
// passes through a symbolic link, or is not a regular file of the recorded
// size.
result<stem_file> open_stem(jobs::service& service, std::string_view key, std::string_view file);

// The done record of that file, with the same errors but nothing opened:
// for a file kept as an S3 object (path "s3://..."), which open_stem
// refuses.
result<storage::file_record> done_file(jobs::service& service, std::string_view key,
                                       std::string_view file);
// open_stem of a record done_file found.
result<stem_file> open_record(jobs::service& service, const storage::file_record& record);

} // namespace stemd::server
