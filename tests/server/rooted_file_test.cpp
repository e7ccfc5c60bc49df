#include "server/rooted_file.hpp"

#include "server/error.hpp"
#include "tests/support/workspace.hpp"

#include <doctest/doctest.h>

#include <vector>

#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using stemd::server::open_beneath;
using stemd::test::workspace;

namespace {

// The refusal's message for `path`, "" when it was opened.
std::string refusal(const std::vector<fs::path>& roots, const std::string& path) {
    auto opened = open_beneath(roots, path);
    if (opened)
        return "";
    CHECK(opened.error().code == stemd::server::error::file_refused);
    CHECK(opened.error().message.find(path) != std::string::npos);
    return opened.error().message;
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("open_beneath: a regular file beneath a root is opened, and its size known") {
    workspace root("rooted");
    const auto song = root.write("a/b/song.wav", "RIFF1234");
    const std::vector<fs::path> roots{"/nonexistent-root", root.path()};
    auto opened = open_beneath(roots, song.string());
    REQUIRE(opened.has_value());
    CHECK(opened->size == 8);
    char first[4] = {};
    CHECK(::pread(opened->fd.get(), first, 4, 0) == 4);
    CHECK(std::string(first, 4) == "RIFF");
}

TEST_CASE("open_beneath: no roots means no file at all") {
    CHECK(has(refusal({}, "/etc/hostname"), "api.file_roots lists no folder"));
}

TEST_CASE("open_beneath: outside the roots, relative or with . and .. is refused") {
    workspace root("rooted");
    root.write("in.wav", "x");
    const std::vector<fs::path> roots{root.path()};
    CHECK(has(refusal(roots, "/etc/hostname"), "not beneath a folder of api.file_roots"));
    CHECK(has(refusal(roots, "in.wav"), "not an absolute path"));
    CHECK(has(refusal(roots, (root / ".." / "x").string()), "\"..\""));
    CHECK(has(refusal(roots, (root / "." / "in.wav").string()), "\"..\""));
    CHECK(has(refusal(roots, root.path().string()), "not beneath"));
    // A root is a folder, not a prefix of a name.
    CHECK(has(refusal(roots, root.path().string() + "-other/in.wav"), "not beneath"));
}

TEST_CASE("open_beneath: symbolic links are not followed, wherever they are") {
    workspace root("rooted");
    workspace outside("outside");
    const auto secret = outside.write("secret", "s");
    root.write("real/in.wav", "x");
    fs::create_symlink(secret, root / "file-link");
    fs::create_directory_symlink(outside.path(), root / "dir-link");
    fs::create_directory_symlink(root / "real", root / "inner-link");
    const std::vector<fs::path> roots{root.path()};
    CHECK(has(refusal(roots, (root / "file-link").string()), "is a symbolic link"));
    CHECK(has(refusal(roots, (root / "dir-link" / "secret").string()), "symbolic link"));
    // Even a link that stays beneath the root.
    CHECK(has(refusal(roots, (root / "inner-link" / "in.wav").string()), "symbolic link"));
}

TEST_CASE("open_beneath: FIFOs, devices, folders and empty files are refused") {
    workspace root("rooted");
    REQUIRE(::mkfifo((root / "pipe").c_str(), 0600) == 0);
    root.write("empty", "");
    fs::create_directory(root / "dir");
    const std::vector<fs::path> roots{root.path()};
    // Without O_NONBLOCK this open would wait for a writer for ever.
    CHECK(has(refusal(roots, (root / "pipe").string()), "is a FIFO"));
    CHECK(has(refusal(roots, (root / "empty").string()), "is empty"));
    CHECK(has(refusal(roots, (root / "dir").string()), "is a folder"));
    CHECK(has(refusal(roots, (root / "missing").string()), "cannot be opened"));
    CHECK(has(refusal({"/dev"}, "/dev/zero"), "is a device"));
}
