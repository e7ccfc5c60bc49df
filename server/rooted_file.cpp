#include "server/rooted_file.hpp"

#include "server/error.hpp"

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>

namespace stemd::server {

namespace {

std::vector<std::string_view> components(std::string_view path) {
    std::vector<std::string_view> out;
    while (!path.empty()) {
        const auto slash = path.find('/');
        const auto part = path.substr(0, slash);
        if (!part.empty())
            out.push_back(part);
        if (slash == std::string_view::npos)
            break;
        path.remove_prefix(slash + 1);
    }
    return out;
}

stemd::error refused(const beneath_names& names, std::string_view path, const std::string& why) {
    return make_error(error::file_refused,
                      std::string(names.what) + " \"" + std::string(path) + "\" " + why);
}

std::string roots_list(std::span<const std::filesystem::path> roots) {
    std::string out;
    for (const auto& r : roots)
        out += (out.empty() ? "" : ", ") + r.string();
    return out;
}

// How many leading components of `parts` the root covering them has; 0
// when no root does (a root never covers the file itself).
std::size_t covering_root(std::span<const std::filesystem::path> roots,
                          const std::vector<std::string_view>& parts,
                          const std::filesystem::path** which) {
    for (const auto& root : roots) {
        const std::string text = root.string();
        const auto root_parts = components(text);
        if (root_parts.size() >= parts.size())
            continue;
        if (std::equal(root_parts.begin(), root_parts.end(), parts.begin())) {
            *which = &root;
            return root_parts.size();
        }
    }
    return 0;
}

std::string kind_of(mode_t mode) {
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device";
    if (S_ISDIR(mode))
        return "a folder";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

// The descriptor of the last folder on the way, every step without
// following a link.
result<unique_fd> walk(const beneath_names& names, std::string_view path,
                       const std::filesystem::path& root,
                       const std::vector<std::string_view>& parts, std::size_t from) {
    unique_fd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir)
        return refused(names, path,
                       "cannot be read: its " + std::string(names.roots) + " folder " +
                           root.string() + " cannot be opened (" + std::strerror(errno) + ")");
    for (std::size_t i = from; i + 1 < parts.size(); ++i) {
        const std::string name(parts[i]);
        unique_fd next(
            ::openat(dir.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next) {
            const int e = errno;
            if (e == ELOOP || e == ENOTDIR)
                return refused(names, path,
                               "passes through \"" + name +
                                   "\", which is a symbolic link or not a folder; stemd "
                                   "follows no links beneath " +
                                   std::string(names.roots));
            return refused(names, path,
                           "cannot be opened at \"" + name + "\": " + std::strerror(e));
        }
        dir = std::move(next);
    }
    return dir;
}

} // namespace

result<rooted_file> open_beneath(std::span<const std::filesystem::path> roots,
                                 std::string_view path, const beneath_names& names) {
    if (roots.empty())
        return refused(names, path,
                       "is not accepted: api.file_roots lists no folder. Upload the file "
                       "instead (multipart/form-data; `stemd submit --file` does), or add "
                       "its folder to api.file_roots");
    if (path.empty() || path.front() != '/')
        return refused(names, path, "is not an absolute path");
    const auto parts = components(path);
    for (auto part : parts)
        if (part == "." || part == "..")
            return refused(names, path, "holds a \".\" or \"..\" component; give the plain path");
    const std::filesystem::path* root = nullptr;
    const std::size_t depth = covering_root(roots, parts, &root);
    if (root == nullptr)
        return refused(names, path,
                       "is not beneath a folder of " + std::string(names.roots) + " (" +
                           roots_list(roots) + "); move it there or upload it");
    auto dir = walk(names, path, *root, parts, depth);
    if (!dir)
        return dir.error();
    const std::string name(parts.back());
    unique_fd fd(::openat(dir->get(), name.c_str(),
                          O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
    if (!fd) {
        const int e = errno;
        if (e == ELOOP)
            return refused(names, path,
                           "is a symbolic link; stemd follows no links beneath " +
                               std::string(names.roots));
        return refused(names, path, std::string("cannot be opened: ") + std::strerror(e));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return refused(names, path, std::string("cannot be examined: ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode))
        return refused(names, path, "is " + kind_of(st.st_mode) + ", not a regular file");
    if (st.st_size == 0)
        return refused(names, path, "is empty");
    return rooted_file{std::move(fd), static_cast<std::uint64_t>(st.st_size)};
}

} // namespace stemd::server
