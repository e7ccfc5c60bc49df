#include "client/partial_file.hpp"

#include "client/error.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>
#include <vector>

namespace stemd::client {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t chunk_size = 64 * 1024;
constexpr int no_link = O_NOFOLLOW | O_CLOEXEC;

// Opens a file of `dir` for reading, refusing a link.
result<unique_fd> open_for_reading(const directory& dir, const std::string& name) {
    unique_fd fd(::openat(dir.fd(), name.c_str(), O_RDONLY | no_link));
    if (!fd)
        return file_error("opening", dir / name, errno);
    return fd;
}

// Feeds the first `limit` bytes of `fd` into `hash` (all of it when limit
// is absent); returns how many there were. pread: the descriptor may be
// shared with the one writing (partial_file::reader), whose offset stays.
result<std::uint64_t> hash_fd(int fd, const fs::path& shown, sha256& hash,
                              std::optional<std::uint64_t> limit = std::nullopt,
                              const std::atomic<bool>* abandoned = nullptr) {
    std::vector<char> buffer(chunk_size);
    std::uint64_t total = 0;
    while (!limit || total < *limit) {
        if (abandoned != nullptr && *abandoned)
            return stemd::error{make_error_code(error::file_io),
                                "reading " + shown.string() + ": abandoned (shutting down)"};
        std::size_t want = buffer.size();
        if (limit)
            want = static_cast<std::size_t>(std::min<std::uint64_t>(want, *limit - total));
        const ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(total));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return file_error("reading", shown, errno);
        }
        if (n == 0)
            break;
        hash.update(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
        total += static_cast<std::uint64_t>(n);
    }
    if (limit && total != *limit)
        return stemd::error{make_error_code(error::file_io),
                            "reading " + shown.string() +
                                ": the partial download shrank while being resumed; retry"};
    return total;
}

// The size of a regular file of `dir`, not following a link.
std::optional<std::uint64_t> regular_file_size(const directory& dir, const std::string& name) {
    struct stat st {};
    if (::fstatat(dir.fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
        return std::nullopt;
    return static_cast<std::uint64_t>(st.st_size);
}

// The extension part of "{name}.{ext}" or "{name}.{ext}.part"; "" when
// `file` is neither.
std::string_view extension_in(std::string_view file, std::string_view name, bool part) {
    if (file.size() <= name.size() + 1 || file.substr(0, name.size()) != name ||
        file[name.size()] != '.')
        return "";
    std::string_view rest = file.substr(name.size() + 1);
    constexpr std::string_view suffix = ".part";
    const bool is_part =
        rest.size() > suffix.size() && rest.substr(rest.size() - suffix.size()) == suffix;
    if (is_part != part)
        return "";
    if (part)
        rest.remove_suffix(suffix.size());
    if (rest.find('.') != std::string_view::npos || is_reserved_extension(rest))
        return "";
    return rest;
}

// The names in `dir`, read through its descriptor.
result<std::vector<std::string>> list_names(const directory& dir) {
    const int fd = ::dup(dir.fd());
    DIR* listing = fd < 0 ? nullptr : ::fdopendir(fd);
    if (listing == nullptr) {
        const int err = errno;
        if (fd >= 0)
            ::close(fd);
        return file_error("listing", dir.path(), err);
    }
    ::rewinddir(listing);
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(listing))
        names.emplace_back(entry->d_name);
    ::closedir(listing);
    return names;
}

result<disk_state> scan_directory(const directory& dir, const std::string& name) {
    auto names = list_names(dir);
    if (!names)
        return names.error();
    disk_state found;
    std::string complete_ext;
    for (const auto& file : *names) {
        const auto size = regular_file_size(dir, file);
        if (!size)
            continue;
        if (auto ext = extension_in(file, name, true); !ext.empty()) {
            if (!found.part || *size > *found.part) {
                found.part = *size;
                found.extension = ext;
            }
        } else if (auto final_ext = extension_in(file, name, false); !final_ext.empty()) {
            complete_ext = final_ext;
        }
    }
    if (!found.part && !complete_ext.empty()) {
        found.extension = complete_ext;
        found.complete = dir / (name + "." + complete_ext);
    }
    return found;
}

result<void> flush(const directory& dir) {
    if (::fsync(dir.fd()) != 0)
        return file_error("flushing directory", dir.path(), errno);
    return {};
}

// "{final}.part.meta.tmp": a resume record being written.
std::string record_temporary_of(const std::string& final_name) {
    return resume_record_name(final_name) + ".tmp";
}

// Deletes `name` of `dir` if it is there; true when it was.
bool remove_entry(const directory& dir, const std::string& name) {
    return ::unlinkat(dir.fd(), name.c_str(), 0) == 0;
}

} // namespace

bool is_reserved_extension(std::string_view extension) {
    constexpr std::array<std::string_view, 3> reserved{"part", "meta", "tmp"};
    return std::find(reserved.begin(), reserved.end(), extension) != reserved.end();
}

stemd::error file_error(std::string_view verb, const fs::path& p, int err,
                        std::string_view detail) {
    if (err == ELOOP)
        return {make_error_code(error::file_io),
                std::string(verb) + " " + p.string() + std::string(detail) +
                    ": it is a symbolic link, which a download never follows; remove the link, "
                    "then retry"};
    return {make_error_code(error::file_io),
            std::string(verb) + " " + p.string() + std::string(detail) + ": " + std::strerror(err) +
                "; free disk space or fix the directory's permissions, then retry"};
}

result<disk_state> inspect_disk(const directory& dir, const std::string& name,
                                const std::string& url_extension) {
    if (url_extension.empty())
        return scan_directory(dir, name);
    disk_state found;
    found.extension = url_extension;
    const std::string final_name = name + "." + url_extension;
    found.part = regular_file_size(dir, part_name_of(final_name));
    if (!found.part && regular_file_size(dir, final_name))
        found.complete = dir / final_name;
    return found;
}

result<file_digest> digest_file(const directory& dir, const std::string& name) {
    auto fd = open_for_reading(dir, name);
    if (!fd)
        return fd.error();
    sha256 hash;
    auto size = hash_fd(fd->get(), dir / name, hash);
    if (!size)
        return size.error();
    return file_digest{*size, hash.finish_hex()};
}

std::string part_name_of(const std::string& final_name) {
    return final_name + ".part";
}

result<void> remove_part(const directory& dir, const std::string& final_name) {
    remove_entry(dir, part_name_of(final_name));
    remove_entry(dir, record_temporary_of(final_name));
    // Flushed, or a crash could bring the record back beside the bytes of
    // the next transfer, which saves none when its server sends no validator.
    if (remove_entry(dir, resume_record_name(final_name)))
        return flush(dir);
    return {};
}

std::string resume_record_name(const std::string& final_name) {
    return final_name + ".part.meta";
}

result<void> save_resume_record(const directory& dir, const std::string& final_name,
                                const resume_record& r) {
    const std::string meta = resume_record_name(final_name);
    const std::string temporary = record_temporary_of(final_name);
    for (const std::string* v : {&r.object, &r.validator})
        if (v->find_first_of("\r\n") != std::string::npos)
            return stemd::error{make_error_code(error::bad_response),
                                "the resume record for " + (dir / final_name).string() +
                                    " cannot hold a line break; the download starts over"};
    const std::string text = "object " + r.object + "\nvalidator " + r.validator + "\ntotal " +
                             std::to_string(r.total) + "\n";
    unique_fd fd(
        ::openat(dir.fd(), temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | no_link, 0644));
    if (!fd)
        return file_error("creating", dir / temporary, errno);
    // No half-written record may stay behind whatever fails.
    const auto failed = [&](std::string_view verb, int err, std::string_view detail = {}) {
        fd.close();
        remove_entry(dir, temporary);
        return file_error(verb, dir / temporary, err, detail);
    };
    if (!write_all(fd.get(), text.data(), text.size()) || ::fsync(fd.get()) != 0)
        return failed("writing", errno);
    if (const int err = fd.close(); err != 0)
        return failed("closing", err);
    if (::renameat(dir.fd(), temporary.c_str(), dir.fd(), meta.c_str()) != 0)
        return failed("renaming", errno, " to " + meta);
    return flush(dir);
}

std::optional<resume_record> load_resume_record(const directory& dir,
                                                const std::string& final_name) {
    auto fd = open_for_reading(dir, resume_record_name(final_name));
    if (!fd)
        return std::nullopt;
    std::string text(4096, '\0');
    const ssize_t n = ::read(fd->get(), text.data(), text.size());
    if (n <= 0 || static_cast<std::size_t>(n) == text.size())
        return std::nullopt;
    text.resize(static_cast<std::size_t>(n));
    resume_record r;
    int seen = 0;
    std::string_view rest = text;
    while (!rest.empty() && seen < 3) {
        const auto eol = rest.find('\n');
        const std::string_view line = rest.substr(0, eol);
        rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
        const auto space = line.find(' ');
        const std::string_view key = line.substr(0, space);
        const std::string_view value =
            space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
        if (key == "object" && seen == 0)
            r.object = value;
        else if (key == "validator" && seen == 1)
            r.validator = value;
        else if (key == "total" && seen == 2) {
            const auto [end, ec] =
                std::from_chars(value.data(), value.data() + value.size(), r.total);
            if (ec != std::errc{} || end != value.data() + value.size())
                return std::nullopt;
        } else
            return std::nullopt;
        ++seen;
    }
    if (seen != 3 || r.object.empty() || r.validator.empty())
        return std::nullopt;
    return r;
}

result<void> forget_resume_record(const directory& dir, const std::string& final_name) {
    const std::string meta = resume_record_name(final_name);
    if (::unlinkat(dir.fd(), meta.c_str(), 0) != 0) {
        if (errno == ENOENT)
            return {};
        return file_error("deleting", dir / meta, errno);
    }
    return flush(dir);
}

partial_file::partial_file(const directory& dir, std::string final_name, unique_fd fd)
    : dir_(&dir), final_(std::move(final_name)), part_(part_name_of(final_)), fd_(std::move(fd)) {}

result<bool> lock_if_current(const directory& dir, const std::string& part_name, int fd) {
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            return stemd::error{make_error_code(error::file_io),
                                "opening " + (dir / part_name).string() +
                                    ": another download (this daemon or another one sharing "
                                    "the output directory) is writing it; it is left alone, "
                                    "retry once that one is done"};
        return file_error("locking", dir / part_name, errno);
    }
    struct stat locked {};
    struct stat named {};
    if (::fstat(fd, &locked) != 0)
        return file_error("checking", dir / part_name, errno);
    if (::fstatat(dir.fd(), part_name.c_str(), &named, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT)
            return false;
        return file_error("checking", dir / part_name, errno);
    }
    return locked.st_dev == named.st_dev && locked.st_ino == named.st_ino;
}

result<partial_file> partial_file::open(const directory& dir, const std::string& final_name) {
    const std::string part = part_name_of(final_name);
    // Each miss means another download finished or dropped the .part in
    // between; a few in a row mean something keeps doing it.
    constexpr int attempts = 3;
    for (int attempt = 0; attempt < attempts; ++attempt) {
        // No O_TRUNC: nothing may change before the lock is held.
        unique_fd fd(::openat(dir.fd(), part.c_str(), O_RDWR | O_CREAT | no_link, 0644));
        if (!fd)
            return file_error("opening", dir / part, errno);
        auto locked = lock_if_current(dir, part, fd.get());
        if (!locked)
            return locked.error();
        if (*locked) {
            // Under the lock nobody writes a record for this name: a
            // temporary one is what a crash left.
            remove_entry(dir, record_temporary_of(final_name));
            return partial_file(dir, final_name, std::move(fd));
        }
    }
    return stemd::error{make_error_code(error::file_io),
                        "opening " + (dir / part).string() +
                            ": other downloads kept finishing or deleting it while this one "
                            "opened it; it is left alone, retry once they are done"};
}

std::uint64_t partial_file::size_on_disk() const noexcept {
    struct stat st {};
    return ::fstat(fd_.get(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

result<unique_fd> partial_file::reader() const {
    unique_fd fd(::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0));
    if (!fd)
        return file_error("reading", path(), errno);
    return fd;
}

result<sha256> partial_file::hash_prefix(unique_fd fd, std::uint64_t keep, const fs::path& shown,
                                         const std::atomic<bool>* abandoned) {
    sha256 hash;
    if (auto hashed = hash_fd(fd.get(), shown, hash, keep, abandoned); !hashed)
        return hashed.error();
    return hash;
}

result<void> partial_file::resume_after(std::uint64_t keep, sha256 prefix) {
    if (::ftruncate(fd_.get(), static_cast<off_t>(keep)) != 0 ||
        ::lseek(fd_.get(), static_cast<off_t>(keep), SEEK_SET) < 0)
        return file_error("resuming", path(), errno);
    hash_ = std::move(prefix);
    size_ = keep;
    return {};
}

result<void> partial_file::start_over() {
    return resume_after(0, sha256());
}

result<void> partial_file::write(std::span<const char> bytes) {
    if (!write_all(fd_.get(), bytes.data(), bytes.size()))
        return file_error("writing", path(), errno);
    hash_.update(std::string_view(bytes.data(), bytes.size()));
    size_ += bytes.size();
    return {};
}

// The lock is held until the .part has its final name.
result<std::string> partial_file::finish() {
    if (::fsync(fd_.get()) != 0)
        return file_error("flushing", path(), errno);
    // The record goes first and one fsync covers both: a crash leaves a
    // .part without a record (started over) or the final file alone, never
    // a record beside a complete file that nothing would delete.
    remove_entry(*dir_, resume_record_name(final_));
    remove_entry(*dir_, record_temporary_of(final_));
    if (::renameat(dir_->fd(), part_.c_str(), dir_->fd(), final_.c_str()) != 0)
        return file_error("renaming", path(), errno, " to " + final_);
    if (auto flushed = flush(*dir_); !flushed)
        return flushed.error();
    if (const int err = fd_.close(); err != 0)
        return file_error("closing", *dir_ / final_, err);
    return hash_.finish_hex();
}

result<void> partial_file::discard() {
    auto removed = remove_part(*dir_, final_);
    fd_.close();
    return removed;
}

} // namespace stemd::client
