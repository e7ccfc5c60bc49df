#pragma once

// The files a download leaves on disk: "{name}.{ext}.part" while bytes
// arrive, "{name}.{ext}" once they are all there and durable, and
// "{name}.{ext}.part.meta" saying what a .part holds. What an earlier run
// left is found here, and a .part is resumed or finished here; the transfer
// itself is client/downloader.cpp's. Every file is reached through its
// directory's descriptor (client/directory.hpp) and never through a link.

#include "client/directory.hpp"
#include "common/crypto.hpp"
#include "common/error.hpp"
#include "common/posix_file.hpp"

#include <atomic>
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

// True for the extensions of the files a download keeps next to a final
// one ("part", "meta", "tmp"): no final file may be named with one, or it
// would be another file's .part or resume record.
bool is_reserved_extension(std::string_view extension);

// With `url_extension` known only "{name}.{url_extension}" and its .part
// count. Without, the files are found by name: a .part (the largest, should
// there be several) is resumed; otherwise any "{name}.{ext}" is the finished
// file. A .part wins over a final file: the final name exists only for
// complete files, but a .part means a newer download was under way. Only
// regular files count (a link is not one), and never a reserved extension.
result<disk_state> inspect_disk(const directory& dir, const std::string& name,
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

// Size and SHA-256 of a whole file in `dir` (one found complete on disk).
result<file_digest> digest_file(const directory& dir, const std::string& name);

// "{final}.part"
std::string part_name_of(const std::string& final_name);

// Deletes "{final}.part" and its resume record (and a half-written one) if
// they are there (a .part that is not worth resuming); the directory is
// fsync'd once a record went, so a crash cannot bring it back beside the
// next transfer's bytes. Fails only when that fsync does.
result<void> remove_part(const directory& dir, const std::string& final_name);

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
std::string resume_record_name(const std::string& final_name);
// Written to a temporary file ("{final}.part.meta.tmp", deleted again
// should anything fail), fsync'd, renamed and its directory fsync'd.
result<void> save_resume_record(const directory& dir, const std::string& final_name,
                                const resume_record& r);
// Absent when there is none or it cannot be read as one.
std::optional<resume_record> load_resume_record(const directory& dir,
                                                const std::string& final_name);
// Deletes the record and fsyncs the directory, so that bytes written to the
// .part afterwards can never be taken for the object the record named.
result<void> forget_resume_record(const directory& dir, const std::string& final_name);

// For partial_file::open: locks `fd`, opened on `part_name` in `dir` a
// moment ago, then checks that the name still leads to the file locked.
// Another download may have renamed its finished .part to the final name,
// or deleted it, between that open and this lock: the lock is then on the
// final file or a deleted one, which must not be written. True: locked, and
// still the .part; false: no longer it (close, open again); an error: the
// lock is someone else's (transient) or a call failed.
result<bool> lock_if_current(const directory& dir, const std::string& part_name, int fd);

// The .part file being written, with the SHA-256 of everything in it. It is
// locked (flock, exclusive) from open() until finish() or discard(), so two
// downloads of one file (two daemons sharing an output directory, a restart
// racing a leftover) never write into it at once.
class partial_file {
public:
    // Opens or creates "{final}.part" in `dir` (never through a link) and
    // locks it, opening again (a bounded number of times) while what was
    // locked is no longer the .part; nothing in it changes yet, and a
    // temporary resume record a crash left is deleted. Another holder of
    // the lock is a transient client::error::file_io.
    static result<partial_file> open(const directory& dir, const std::string& final_name);

    // Reads and hashes the first `keep` bytes of the .part: as slow as the
    // prefix is long, hence apart from the rest so it can run on a worker
    // thread. Reads with pread from offset 0, stops with an error at the
    // next chunk once `*abandoned` is set.
    static result<sha256> hash_prefix(unique_fd fd, std::uint64_t keep,
                                      const std::filesystem::path& shown,
                                      const std::atomic<bool>* abandoned = nullptr);
    // A second descriptor (dup) of the locked file for hash_prefix: the
    // bytes hashed are the locked file's, whatever the name leads to now,
    // and the lock lasts until the worker is done with them too.
    result<unique_fd> reader() const;

    // Keeps the first `keep` bytes, whose hash `prefix` is, and appends
    // after them; anything beyond goes.
    result<void> resume_after(std::uint64_t keep, sha256 prefix);
    // Empties the file: new bytes start at 0.
    result<void> start_over();

    // The size of the file now (fstat); 0 when that fails.
    std::uint64_t size_on_disk() const noexcept;

    // Appends and hashes.
    result<void> write(std::span<const char> bytes);
    // Bytes in the file: those kept plus those written.
    std::uint64_t size() const noexcept { return size_; }
    std::filesystem::path path() const { return *dir_ / part_; }

    // fsync, rename to the final name, fsync of its directory, close: the
    // final name then stands for a complete, durable file; the resume
    // record goes. Returns the SHA-256 (lowercase hex); the object must not
    // be used afterwards.
    result<std::string> finish();
    // Deletes the .part and its resume record (remove_part), then closes.
    result<void> discard();

private:
    partial_file(const directory& dir, std::string final_name, unique_fd fd);

    const directory* dir_;
    std::string final_;
    std::string part_;
    unique_fd fd_;
    sha256 hash_;
    std::uint64_t size_ = 0;
};

} // namespace stemd::client
