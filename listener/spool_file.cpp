#include "listener/spool_file.hpp"

#include "common/crypto.hpp"

#include <system_error>

#include <fcntl.h>

namespace stemd::listener {

spool_file::~spool_file() {
    std::error_code ignored;
    if (!path.empty())
        std::filesystem::remove(path, ignored);
}

bool create_spool(const std::filesystem::path& dir, spool_file& f) {
    const auto path = dir / ("upload-" + random_token_hex(16));
    f.fd = unique_fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (f.fd)
        f.path = path;
    return bool(f.fd);
}

} // namespace stemd::listener
