#include "common/posix_file.hpp"

#include "common/crypto.hpp"

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

struct scratch {
    fs::path dir = fs::temp_directory_path() / ("stemd-posix-file-" + random_token_hex(8));
    scratch() { fs::create_directories(dir); }
    ~scratch() { fs::remove_all(dir); }
};

std::string contents(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

} // namespace

TEST_CASE("posix_file: unique_fd closes once, release hands the descriptor over") {
    scratch s;
    int raw = ::open((s.dir / "f").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
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
    int other = ::open((s.dir / "f").c_str(), O_RDONLY | O_CLOEXEC);
    unique_fd kept(other);
    CHECK(kept.release() == other);
    CHECK(::fcntl(other, F_GETFD) != -1); // released: still open
    ::close(other);
}

TEST_CASE("posix_file: write_all writes every byte") {
    scratch s;
    const fs::path p = s.dir / "big";
    unique_fd fd(::open(p.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
    REQUIRE(fd);
    const std::string data(3 * 1024 * 1024 + 7, 'x');
    CHECK(write_all(fd.get(), data.data(), data.size()));
    REQUIRE(fd.close() == 0);
    CHECK(contents(p) == data);
}

TEST_CASE("posix_file: write_all reports the system's refusal with errno") {
    // A descriptor opened read-only cannot be written.
    scratch s;
    const fs::path p = s.dir / "ro";
    std::ofstream(p) << "x";
    unique_fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    errno = 0;
    CHECK_FALSE(write_all(fd.get(), "abc", 3));
    CHECK(errno == EBADF);
}

TEST_CASE("posix_file: fsync_directory succeeds on a directory and names the failure otherwise") {
    scratch s;
    CHECK(fsync_directory(s.dir) == 0);
    CHECK(fsync_directory(s.dir / "missing") == ENOENT);
    std::ofstream(s.dir / "file") << "x";
    CHECK(fsync_directory(s.dir / "file") == ENOTDIR);
}
