#include "jobs/stem_removal.hpp"

#include "common/posix_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace stemd::jobs {

namespace fs = std::filesystem;

namespace {

constexpr int directory_flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;

// `path` as folder names below `output_dir` and a file name; nullopt when it
// is not beneath it (lexically: no "..", the same start).
std::optional<std::vector<std::string>> components_below(const fs::path& output_dir,
                                                         const fs::path& path) {
    const fs::path root = output_dir.lexically_normal();
    const fs::path rel = path.lexically_normal().lexically_relative(root);
    if (rel.empty() || rel.is_absolute())
        return std::nullopt;
    std::vector<std::string> parts;
    for (const auto& c : rel) {
        const std::string name = c.string();
        if (name == ".." || name.empty() || name == "/")
            return std::nullopt;
        if (name != ".")
            parts.push_back(name);
    }
    if (parts.empty())
        return std::nullopt;
    return parts;
}

// One open folder of the walk down from output_dir.
struct opened_dir {
    unique_fd fd;
    std::string name; // in the folder above ("" for output_dir)
};

std::string why_errno(int err) {
    return std::strerror(err);
}

// Removes `name` in `dir` if it is a regular file; a link or anything else
// is kept and reported.
void remove_file(const opened_dir& dir, const fs::path& shown, const std::string& name,
                 stem_removal& out, bool& changed) {
    struct stat st {};
    if (::fstatat(dir.fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        const int err = errno;
        if (err != ENOENT)
            out.kept.push_back(shown.string() + ": " + why_errno(err));
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        out.kept.push_back(shown.string() + (S_ISLNK(st.st_mode)
                                                 ? ": a symbolic link, never followed"
                                                 : ": not a regular file"));
        return;
    }
    if (::unlinkat(dir.fd.get(), name.c_str(), 0) != 0) {
        const int err = errno;
        out.kept.push_back(shown.string() + ": " + why_errno(err));
        return;
    }
    ++out.files;
    out.bytes += st.st_size;
    changed = true;
}

// Removes the folders of `chain` below output_dir, deepest first, while
// they are empty; fsyncs the folder each was removed from.
void remove_empty_folders(std::vector<opened_dir>& chain, stem_removal& out) {
    for (std::size_t i = chain.size() - 1; i > 0; --i) {
        const auto& parent = chain[i - 1];
        chain[i].fd = unique_fd();
        if (::unlinkat(parent.fd.get(), chain[i].name.c_str(), AT_REMOVEDIR) != 0)
            return; // not empty (another stem, a user's file) or gone: either way stop
        ++out.directories;
        ::fsync(parent.fd.get());
    }
}

void remove_one(const fs::path& output_dir, const std::string& path, stem_removal& out) {
    auto parts = components_below(output_dir, path);
    if (!parts) {
        out.kept.push_back(path + ": not beneath storage.output_dir " + output_dir.string());
        return;
    }
    std::vector<opened_dir> chain;
    chain.push_back({unique_fd(::open(output_dir.c_str(), directory_flags)), ""});
    if (!chain.back().fd) {
        const int err = errno;
        if (err != ENOENT)
            out.kept.push_back(path + ": opening " + output_dir.string() + ": " + why_errno(err));
        return;
    }
    fs::path shown = output_dir;
    for (std::size_t i = 0; i + 1 < parts->size(); ++i) {
        shown /= (*parts)[i];
        unique_fd next(
            ::openat(chain.back().fd.get(), (*parts)[i].c_str(), directory_flags | O_NOFOLLOW));
        if (!next) {
            const int err = errno;
            if (err != ENOENT)
                out.kept.push_back(shown.string() + ": " +
                                   (err == ELOOP || err == ENOTDIR
                                        ? std::string("a symbolic link or not a folder, never "
                                                      "followed")
                                        : why_errno(err)));
            return;
        }
        chain.push_back({std::move(next), (*parts)[i]});
    }
    const std::string& leaf = parts->back();
    bool changed = false;
    for (const std::string& name : {leaf, leaf + ".part", leaf + ".part.meta"})
        remove_file(chain.back(), shown / name, name, out, changed);
    if (changed)
        ::fsync(chain.back().fd.get());
    remove_empty_folders(chain, out);
}

} // namespace

stem_removal remove_stems(const fs::path& output_dir, const std::vector<std::string>& paths) {
    stem_removal out;
    for (const auto& path : paths)
        remove_one(output_dir, path, out);
    return out;
}

} // namespace stemd::jobs
