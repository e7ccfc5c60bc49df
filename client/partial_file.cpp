#include "client/partial_file.hpp"

#include "client/error.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <utility>
#include <vector>

namespace stemd::client {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t chunk_size = 64 * 1024;

// Feeds the first `limit` bytes of a file into `hash` (all of it when
// limit is absent); returns how many there were.
result<std::uint64_t> hash_file(const fs::path& p, sha256& hash,
                                std::optional<std::uint64_t> limit = std::nullopt) {
    unique_fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        return file_error("opening", p, errno);
    std::vector<char> buffer(chunk_size);
    std::uint64_t total = 0;
    while (!limit || total < *limit) {
        std::size_t want = buffer.size();
        if (limit)
            want = static_cast<std::size_t>(std::min<std::uint64_t>(want, *limit - total));
        const ssize_t n = ::read(fd.get(), buffer.data(), want);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return file_error("reading", p, errno);
        }
        if (n == 0)
            break;
        hash.update(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
        total += static_cast<std::uint64_t>(n);
    }
    if (limit && total != *limit)
        return stemd::error{make_error_code(error::file_io),
                            "reading " + p.string() +
                                ": the partial download shrank while being resumed; retry"};
    return total;
}

std::optional<std::uint64_t> regular_file_size(const fs::path& p) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec))
        return std::nullopt;
    const auto size = fs::file_size(p, ec);
    if (ec)
        return std::nullopt;
    return size;
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
    return rest.find('.') == std::string_view::npos ? rest : "";
}

result<disk_state> scan_directory(const fs::path& dir, const std::string& name) {
    disk_state found;
    std::string complete_ext;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string file = it->path().filename().string();
        const auto size = regular_file_size(it->path());
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
    if (ec)
        return file_error("listing", dir, ec.value());
    if (!found.part && !complete_ext.empty()) {
        found.extension = complete_ext;
        found.complete = dir / (name + "." + complete_ext);
    }
    return found;
}

} // namespace

stemd::error file_error(std::string_view verb, const fs::path& p, int err,
                        std::string_view detail) {
    return {make_error_code(error::file_io),
            std::string(verb) + " " + p.string() + std::string(detail) + ": " + std::strerror(err) +
                "; free disk space or fix the directory's permissions, then retry"};
}

result<disk_state> inspect_disk(const fs::path& dir, const std::string& name,
                                const std::string& url_extension) {
    if (url_extension.empty())
        return scan_directory(dir, name);
    disk_state found;
    found.extension = url_extension;
    const fs::path final_path = dir / (name + "." + url_extension);
    found.part = regular_file_size(part_path_of(final_path));
    if (!found.part && regular_file_size(final_path))
        found.complete = final_path;
    return found;
}

result<file_digest> digest_file(const fs::path& p) {
    sha256 hash;
    auto size = hash_file(p, hash);
    if (!size)
        return size.error();
    return file_digest{*size, hash.finish_hex()};
}

fs::path part_path_of(const fs::path& final_path) {
    return fs::path(final_path) += ".part";
}

void remove_part(const fs::path& final_path) {
    std::error_code ignored;
    fs::remove(part_path_of(final_path), ignored);
    fs::remove(resume_record_path(final_path), ignored);
}

fs::path resume_record_path(const fs::path& final_path) {
    return fs::path(final_path) += ".part.meta";
}

result<void> save_resume_record(const fs::path& final_path, const resume_record& r) {
    const fs::path meta = resume_record_path(final_path);
    const fs::path temporary = fs::path(meta) += ".tmp";
    for (const std::string* v : {&r.object, &r.validator})
        if (v->find_first_of("\r\n") != std::string::npos)
            return stemd::error{make_error_code(error::bad_response),
                                "the resume record for " + final_path.string() +
                                    " cannot hold a line break; the download starts over"};
    const std::string text = "object " + r.object + "\nvalidator " + r.validator + "\ntotal " +
                             std::to_string(r.total) + "\n";
    unique_fd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd)
        return file_error("creating", temporary, errno);
    if (!write_all(fd.get(), text.data(), text.size()) || ::fsync(fd.get()) != 0)
        return file_error("writing", temporary, errno);
    if (const int err = fd.close(); err != 0)
        return file_error("closing", temporary, err);
    if (::rename(temporary.c_str(), meta.c_str()) != 0)
        return file_error("renaming", temporary, errno, " to " + meta.string());
    if (const int err = fsync_directory(meta.parent_path()); err != 0)
        return file_error("flushing directory", meta.parent_path(), err);
    return {};
}

std::optional<resume_record> load_resume_record(const fs::path& final_path) {
    std::ifstream in(resume_record_path(final_path), std::ios::binary);
    std::string line;
    resume_record r;
    int seen = 0;
    while (std::getline(in, line) && seen < 3) {
        const auto space = line.find(' ');
        const std::string key = line.substr(0, space);
        const std::string value = space == std::string::npos ? "" : line.substr(space + 1);
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

result<void> forget_resume_record(const fs::path& final_path) {
    const fs::path meta = resume_record_path(final_path);
    if (::unlink(meta.c_str()) != 0) {
        if (errno == ENOENT)
            return {};
        return file_error("deleting", meta, errno);
    }
    if (const int err = fsync_directory(meta.parent_path()); err != 0)
        return file_error("flushing directory", meta.parent_path(), err);
    return {};
}

partial_file::partial_file(fs::path final_path, unique_fd fd, sha256 hash, std::uint64_t size)
    : final_(std::move(final_path)), part_(part_path_of(final_)), fd_(std::move(fd)),
      hash_(std::move(hash)), size_(size) {}

result<partial_file> partial_file::open(const fs::path& final_path, std::uint64_t keep) {
    const fs::path part = part_path_of(final_path);
    sha256 hash;
    if (keep > 0) {
        if (auto kept = hash_file(part, hash, keep); !kept)
            return kept.error();
    }
    const int mode = O_WRONLY | O_CREAT | O_CLOEXEC | (keep > 0 ? O_APPEND : O_TRUNC);
    unique_fd fd(::open(part.c_str(), mode, 0644));
    if (!fd)
        return file_error("opening", part, errno);
    return partial_file(final_path, std::move(fd), std::move(hash), keep);
}

result<void> partial_file::write(std::span<const char> bytes) {
    if (!write_all(fd_.get(), bytes.data(), bytes.size()))
        return file_error("writing", part_, errno);
    hash_.update(std::string_view(bytes.data(), bytes.size()));
    size_ += bytes.size();
    return {};
}

result<std::string> partial_file::finish() {
    if (::fsync(fd_.get()) != 0)
        return file_error("flushing", part_, errno);
    if (const int err = fd_.close(); err != 0)
        return file_error("closing", part_, err);
    if (::rename(part_.c_str(), final_.c_str()) != 0)
        return file_error("renaming", part_, errno, " to " + final_.string());
    if (const int err = fsync_directory(final_.parent_path()); err != 0)
        return file_error("flushing directory", final_.parent_path(), err);
    std::error_code ignored;
    fs::remove(resume_record_path(final_), ignored);
    return hash_.finish_hex();
}

void partial_file::discard() {
    fd_.close();
    remove_part(final_);
}

} // namespace stemd::client
