#include "config/sources.hpp"

#include "common/posix_file.hpp"

#include <cerrno>
#include <cstdlib>

#include <fcntl.h>
#include <unistd.h>

namespace stemd::config {

boost::system::result<std::string> read_whole_file(const std::filesystem::path& path) {
    const unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return boost::system::error_code(errno, boost::system::system_category());
    }
    std::string text;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n == 0) {
            break;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return boost::system::error_code(errno, boost::system::system_category());
        }
        text.append(buffer, static_cast<std::size_t>(n));
    }
    return text;
}

std::optional<std::string> environment_variable(std::string_view name) {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr || *value == '\0') {
        return std::nullopt;
    }
    return std::string(value);
}

} // namespace stemd::config
