#pragma once

// The files a download leaves on disk: "{name}.{ext}.part" while bytes
// arrive, "{name}.{ext}" once they are all there and durable. What an
// earlier run left is found here, and a .part is resumed or finished here;
// the transfer itself is client/downloader.cpp's.

#include "common/crypto.hpp"
#include "common/error.hpp"
#include "common/posix_file.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace stemd::client {

// What an earlier run left behind for a name in a directory.
struct disk_state {
    std::string extension;                         // of the files below, "" when none found
    std::optional<std::filesystem::path> complete; // the final file
    std::optional<std::uint64_t> part;             // size of the .part file
};

// With `url_extension` known only "{name}.{url_extension}" and its .part
// count. Without, the files are found by name: a .part (the largest, should
// there be several) is resumed; otherwise any "{name}.{ext}" is the finished
// file. A .part wins over a final file: the final name exists only for
// complete files, but a .part means a newer download was under way.
result<disk_state> inspect_disk(const std::filesystem::path& dir, const std::string& name,
                                const std::string& url_extension);

// client::error::file_io naming the file, e.g. "writing /x/y.mp3.part: No
// space left on device; free disk space or fix the directory's
// permissions, then retry".
stemd::error file_error(std::string_view verb, const std::filesystem::path& p, int err,
                        std::string_view detail = {});

struct file_digest {
    std::uint64_t bytes = 0;
    std::string sha256; // lowercase hex
};

// Size and SHA-256 of a whole file (one found complete on disk).
result<file_digest> digest_file(const std::filesystem::path& p);

// "{final}.part"
std::filesystem::path part_path_of(const std::filesystem::path& final_path);

// Deletes "{final}.part" and its resume record if they are there (a .part
// that is not worth resuming).
void remove_part(const std::filesystem::path& final_path);

// What a .part holds, kept next to it in "{final}.part.meta": a resume is
// only asked for (Range + If-Range) and only accepted when the server still
// serves this object in this version with this length. A .part without one
// is never resumed.
struct resume_record {
    std::string object;      // scheme://host:port/path of the link, without its query
    std::string validator;   // the ETag, else the Last-Modified the server sent; never ""
    std::uint64_t total = 0; // the whole object's length; 0 when the server did not say
    bool operator==(const resume_record&) const = default;
};

// "{final}.part.meta"
std::filesystem::path resume_record_path(const std::filesystem::path& final_path);
// Written to a temporary file, fsync'd, renamed and its directory fsync'd.
result<void> save_resume_record(const std::filesystem::path& final_path, const resume_record& r);
// Absent when there is none or it cannot be read as one.
std::optional<resume_record> load_resume_record(const std::filesystem::path& final_path);
// Deletes the record and fsyncs the directory, so that bytes written to the
// .part afterwards can never be taken for the object the record named.
result<void> forget_resume_record(const std::filesystem::path& final_path);

// The .part file being written, with the SHA-256 of everything in it.
class partial_file {
public:
    // Opens "{final}.part". With `keep` > 0 its first `keep` bytes stay (and
    // are hashed first, since the digest covers the whole file) and new bytes
    // are appended; otherwise it is truncated.
    static result<partial_file> open(const std::filesystem::path& final_path, std::uint64_t keep);

    // Appends and hashes.
    result<void> write(std::span<const char> bytes);
    // Bytes in the file: those kept plus those written.
    std::uint64_t size() const noexcept { return size_; }
    const std::filesystem::path& path() const noexcept { return part_; }

    // fsync, close, rename to the final name, fsync of its directory: the
    // final name then stands for a complete, durable file; the resume
    // record goes. Returns the
    // SHA-256 (lowercase hex); the object must not be used afterwards.
    result<std::string> finish();
    // Closes and deletes the .part and its resume record.
    void discard();

private:
    partial_file(std::filesystem::path final_path, unique_fd fd, sha256 hash, std::uint64_t size);

    std::filesystem::path final_;
    std::filesystem::path part_;
    unique_fd fd_;
    sha256 hash_;
    std::uint64_t size_ = 0;
};

} // namespace stemd::client
