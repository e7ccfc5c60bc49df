#include "server/api_token.hpp"

#include "common/crypto.hpp"
#include "common/log.hpp"
#include "common/posix_file.hpp"
#include "common/text.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>

namespace stemd::server {

namespace {

namespace fs = std::filesystem;

constexpr mode_t token_mode = 0640;

[[noreturn]] void cannot(const std::string& what, const fs::path& file, int err,
                         std::string_view fix) {
    throw std::runtime_error("cannot " + what + " the API token file " + file.string() + ": " +
                             std::strerror(err) + "; " + std::string(fix));
}

// The file's bytes, or nullopt when it does not exist.
std::optional<std::string> read_existing(const fs::path& file) {
    unique_fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT)
            return std::nullopt;
        cannot("read", file, errno,
               "let stemd read it (chmod 640, owned by the user running stemd), or point "
               "api.token_file elsewhere");
    }
    std::string text;
    char buffer[4096];
    while (true) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            cannot("read", file, errno, "check the file (is it a directory?)");
        if (n == 0)
            return text;
        text.append(buffer, static_cast<std::size_t>(n));
        if (text.size() > 64 * 1024)
            throw std::runtime_error("the API token file " + file.string() +
                                     " is larger than 64 KiB; it must hold one token");
    }
}

void write_durably(const fs::path& file, const std::string& content) {
    std::error_code ec;
    if (file.has_parent_path())
        fs::create_directories(file.parent_path(), ec);
    const fs::path temporary = file.string() + ".tmp";
    const std::string_view fix = "check that the folder exists and stemd may write there";
    unique_fd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                        token_mode));
    if (!fd)
        cannot("create", temporary, errno, fix);
    // The umask may have taken the group's read bit away.
    if (::fchmod(fd.get(), token_mode) != 0 ||
        !write_all(fd.get(), content.data(), content.size()) || ::fsync(fd.get()) != 0) {
        const int err = errno;
        ::unlink(temporary.c_str());
        cannot("write", temporary, err, fix);
    }
    if (const int err = fd.close(); err != 0) {
        ::unlink(temporary.c_str());
        cannot("write", temporary, err, fix);
    }
    if (::rename(temporary.c_str(), file.c_str()) != 0) {
        const int err = errno;
        ::unlink(temporary.c_str());
        cannot("create", file, err, fix);
    }
    const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
    if (const int err = fsync_directory(dir); err != 0)
        cannot("create", file, err, fix);
}

} // namespace

std::string load_or_create_api_token(const fs::path& file) {
    auto existing = read_existing(file);
    if (!existing) {
        const std::string token = random_token_hex(32);
        write_durably(file, token + "\n");
        log_info("", "made a new API token in " + file.string() +
                         "; API clients must send it as \"Authorization: Bearer <token>\"");
        return token;
    }
    const std::string token(trim(*existing, " \t\r\n"));
    if (token.empty())
        throw std::runtime_error("the API token file " + file.string() +
                                 " is empty; delete it to have stemd make a new token, or "
                                 "write one into it");
    const bool printable = std::all_of(token.begin(), token.end(),
                                       [](unsigned char c) { return c > 0x20 && c < 0x7f; });
    if (token.size() < min_api_token_length || !printable)
        throw std::runtime_error("the API token file " + file.string() +
                                 " does not hold one token of at least " +
                                 std::to_string(min_api_token_length) +
                                 " characters; delete it to have stemd make a new token");
    return token;
}

} // namespace stemd::server
