#include "client/directory.hpp"

#include "client/error.hpp"
#include "client/partial_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace stemd::client {

namespace fs = std::filesystem;

namespace {

constexpr int directory_flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;

// Creates `dir` and its missing parents, fsyncing the parent of each one
// created (mkdir alone leaves the new entry in the page cache only).
result<void> create_durably(const fs::path& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0)
        return {};
    if (errno != ENOENT)
        return file_error("examining", dir, errno);
    const fs::path parent = dir.parent_path();
    if (!parent.empty() && parent != dir)
        if (auto made = create_durably(parent); !made)
            return made;
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
        return file_error("creating directory", dir, errno);
    const fs::path flushed = parent.empty() ? fs::path(".") : parent;
    if (const int err = fsync_directory(flushed); err != 0)
        return file_error("flushing directory", flushed, err);
    return {};
}

// Opens (creating if missing) `name` in `parent` without following a link.
result<unique_fd> open_component(int parent, const fs::path& parent_path, const std::string& name) {
    const fs::path shown = parent_path / name;
    if (::mkdirat(parent, name.c_str(), 0755) == 0) {
        if (::fsync(parent) != 0)
            return file_error("flushing directory", parent_path, errno);
    } else if (errno != EEXIST) {
        return file_error("creating directory", shown, errno);
    }
    unique_fd fd(::openat(parent, name.c_str(), directory_flags | O_NOFOLLOW));
    if (fd)
        return fd;
    const int err = errno;
    struct stat st {};
    if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        return stemd::error{make_error_code(error::file_io),
                            "opening directory " + shown.string() +
                                ": it is a symbolic link, which a download never follows; "
                                "remove the link, then retry"};
    return file_error("opening directory", shown, err);
}

} // namespace

result<directory> directory::open(const fs::path& root, const fs::path& below) {
    if (auto made = create_durably(root); !made)
        return made.error();
    unique_fd fd(::open(root.c_str(), directory_flags));
    if (!fd)
        return file_error("opening directory", root, errno);
    fs::path path = root;
    for (const auto& component : below) {
        const std::string name = component.string();
        if (name.empty() || name == ".")
            continue;
        if (name == ".." || name == "/")
            throw std::invalid_argument("directory::open: `below` must be a relative path "
                                        "without \"..\"");
        auto next = open_component(fd.get(), path, name);
        if (!next)
            return next.error();
        fd = std::move(*next);
        path /= name;
    }
    return directory(std::move(fd), std::move(path));
}

} // namespace stemd::client
