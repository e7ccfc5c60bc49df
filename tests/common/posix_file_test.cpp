#include "common/posix_file.hpp"

#include "common/crypto.hpp"
#include "tests/support/workspace.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace stemd;

namespace {

using stemd::test::read_file;
using stemd::test::workspace;

} // namespace

TEST_CASE("posix_file: unique_fd closes once, release hands the descriptor over") {
    workspace s("posix-file");
    int raw = ::open((s.path() / "f").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    REQUIRE(raw >= 0);
    {
        unique_fd fd(raw);
        CHECK(fd);
        unique_fd moved(std::move(fd));
        CHECK_FALSE(fd);
        CHECK(moved.get() == raw);
        CHECK(moved.close() == 0);
        CHECK_FALSE(moved);
    }
    CHECK(::fcntl(raw, F_GETFD) == -1); // closed by close(), not again by the destructor
    int other = ::open((s.path() / "f").c_str(), O_RDONLY | O_CLOEXEC);
    unique_fd kept(other);
    CHECK(kept.release() == other);
    CHECK(::fcntl(other, F_GETFD) != -1); // released: still open
    ::close(other);
}

TEST_CASE("posix_file: write_all writes every byte") {
    workspace s("posix-file");
    const fs::path p = s.path() / "big";
    unique_fd fd(::open(p.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
    REQUIRE(fd);
    const std::string data(3 * 1024 * 1024 + 7, 'x');
    CHECK(write_all(fd.get(), data.data(), data.size()));
    REQUIRE(fd.close() == 0);
    CHECK(read_file(p) == data);
}

TEST_CASE("posix_file: write_all reports the system's refusal with errno") {
    // A descriptor opened read-only cannot be written.
    workspace s("posix-file");
    const fs::path p = s.path() / "ro";
    std::ofstream(p) << "x";
    unique_fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    errno = 0;
    CHECK_FALSE(write_all(fd.get(), "abc", 3));
    CHECK(errno == EBADF);
}

TEST_CASE("posix_file: fsync_directory succeeds on a directory and names the failure otherwise") {
    workspace s("posix-file");
    CHECK(fsync_directory(s.path()) == 0);
    CHECK(fsync_directory(s.path() / "missing") == ENOENT);
    std::ofstream(s.path() / "file") << "x";
    CHECK(fsync_directory(s.path() / "file") == ENOTDIR);
}

TEST_CASE("posix_file: open_to_others sees any group or other permission bit") {
    workspace s("posix-file-mode");
    const auto file = s.path() / "secret";
    CHECK_FALSE(open_to_others(file)); // missing
    { std::ofstream(file) << "x"; }
    for (const auto mode : {0600, 0400, 0700}) {
        fs::permissions(file, fs::perms(mode));
        CHECK_MESSAGE(!open_to_others(file), mode);
    }
    for (const auto mode : {0644, 0640, 0604, 0620, 0602, 0610}) {
        fs::permissions(file, fs::perms(mode));
        CHECK_MESSAGE(open_to_others(file), mode);
    }
}
