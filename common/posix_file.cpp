#include "common/posix_file.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace stemd {

unique_fd& unique_fd::operator=(unique_fd&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = o.release();
    }
    return *this;
}

unique_fd::~unique_fd() {
    close();
}

int unique_fd::release() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return fd;
}

int unique_fd::close() noexcept {
    if (fd_ < 0)
        return 0;
    const int rc = ::close(release());
    return rc == 0 ? 0 : errno;
}

bool write_all(int fd, const void* data, std::size_t size) noexcept {
    auto* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::write(fd, p, size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

int fsync_directory(const std::filesystem::path& dir) noexcept {
    unique_fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::fsync(fd.get()) != 0)
        return errno;
    return 0;
}

bool open_to_others(const std::filesystem::path& file) noexcept {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto status = fs::status(file, ec);
    if (ec) {
        return false;
    }
    constexpr auto group_or_others = fs::perms::group_all | fs::perms::others_all;
    return (status.permissions() & group_or_others) != fs::perms::none;
}

} // namespace stemd
