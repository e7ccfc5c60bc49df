#include "client/partial_file.hpp"

#include "client/error.hpp"
#include "common/crypto.hpp"
#include "tests/support/workspace.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <string>

using namespace stemd::client;
namespace fs = std::filesystem;

namespace {

using stemd::test::read_file;
using stemd::test::workspace;
using stemd::test::write_file;

std::span<const char> bytes_of(const std::string& s) {
    return {s.data(), s.size()};
}

} // namespace

TEST_CASE("inspect_disk with the URL's extension looks at that name only") {
    workspace dir("partial-file-test");
    auto none = inspect_disk(dir.path(), "v", "mp3");
    REQUIRE(none.has_value());
    CHECK(none->extension == "mp3");
    CHECK_FALSE(none->part.has_value());
    CHECK_FALSE(none->complete.has_value());

    write_file(dir.path() / "v.mp3", "done");
    auto complete = inspect_disk(dir.path(), "v", "mp3");
    REQUIRE(complete->complete.has_value());
    CHECK(*complete->complete == dir.path() / "v.mp3");

    // A .part means a newer download was under way.
    write_file(dir.path() / "v.mp3.part", "12345");
    auto part = inspect_disk(dir.path(), "v", "mp3");
    CHECK(part->part == 5u);
    CHECK_FALSE(part->complete.has_value());
    CHECK_FALSE(inspect_disk(dir.path(), "v", "wav")->part.has_value());
}

TEST_CASE("inspect_disk without an extension finds files by name") {
    workspace dir("partial-file-test");
    write_file(dir.path() / "v.flac", "done");
    write_file(dir.path() / "vv.mp3.part", "other name");
    write_file(dir.path() / "v.tar.gz", "two dots: not ours");
    auto complete = inspect_disk(dir.path(), "v", "");
    REQUIRE(complete.has_value());
    CHECK(complete->extension == "flac");
    CHECK(complete->complete == dir.path() / "v.flac");

    write_file(dir.path() / "v.wav.part", "123");
    write_file(dir.path() / "v.mp3.part", "1234567");
    auto part = inspect_disk(dir.path(), "v", "");
    CHECK(part->extension == "mp3"); // the largest .part
    CHECK(part->part == 7u);
    CHECK_FALSE(part->complete.has_value());

    auto missing = inspect_disk(dir.path() / "absent", "v", "");
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().code == error::file_io);
    CHECK(missing.error().message.find("listing") != std::string::npos);
}

TEST_CASE("partial_file: written bytes are hashed and finished under the final name") {
    workspace dir("partial-file-test");
    const fs::path final_path = dir.path() / "v.mp3";
    auto file = partial_file::open(final_path, 0);
    REQUIRE(file.has_value());
    CHECK(file->path() == dir.path() / "v.mp3.part");
    REQUIRE(file->write(bytes_of("hello ")).has_value());
    REQUIRE(file->write(bytes_of("world")).has_value());
    CHECK(file->size() == 11);
    CHECK(read_file(file->path()) == "hello world");

    auto digest = file->finish();
    REQUIRE(digest.has_value());
    CHECK(*digest == stemd::sha256_hex("hello world"));
    CHECK(read_file(final_path) == "hello world");
    CHECK_FALSE(fs::exists(part_path_of(final_path)));

    auto whole = digest_file(final_path);
    REQUIRE(whole.has_value());
    CHECK(whole->bytes == 11);
    CHECK(whole->sha256 == *digest);
}

TEST_CASE("partial_file: a resumed prefix is kept and counted in the digest") {
    workspace dir("partial-file-test");
    const fs::path final_path = dir.path() / "v.wav";
    write_file(part_path_of(final_path), "hello ");
    auto file = partial_file::open(final_path, 6);
    REQUIRE(file.has_value());
    CHECK(file->size() == 6);
    REQUIRE(file->write(bytes_of("world")).has_value());
    CHECK(file->finish().value() == stemd::sha256_hex("hello world"));
}

TEST_CASE("partial_file: a prefix that shrank, a failed open, discard") {
    workspace dir("partial-file-test");
    const fs::path final_path = dir.path() / "v.mp3";
    write_file(part_path_of(final_path), "abc");
    auto shrunk = partial_file::open(final_path, 10);
    REQUIRE_FALSE(shrunk.has_value());
    CHECK(shrunk.error().code == error::file_io);
    CHECK(shrunk.error().message.find("shrank") != std::string::npos);

    auto file = partial_file::open(final_path, 0);
    REQUIRE(file.has_value());
    file->discard();
    CHECK_FALSE(fs::exists(part_path_of(final_path)));

    fs::create_directories(part_path_of(dir.path() / "d.mp3"));
    auto blocked = partial_file::open(dir.path() / "d.mp3", 0);
    REQUIRE_FALSE(blocked.has_value());
    CHECK(blocked.error().transient());
    CHECK(blocked.error().message.find((dir.path() / "d.mp3.part").string()) != std::string::npos);

    write_file(part_path_of(dir.path() / "x.mp3"), "x");
    remove_part(dir.path() / "x.mp3");
    CHECK_FALSE(fs::exists(part_path_of(dir.path() / "x.mp3")));
}

TEST_CASE("file_error names the file, the system's reason and what to do") {
    const auto e = file_error("writing", "/x/y.mp3.part", ENOSPC);
    CHECK(e.code == error::file_io);
    CHECK(e.is(stemd::condition::io));
    CHECK(e.message.rfind("writing /x/y.mp3.part: ", 0) == 0);
    CHECK(e.message.find("free disk space") != std::string::npos);
    CHECK(file_error("renaming", "/a", EACCES, " to /b").message.rfind("renaming /a to /b: ", 0) ==
          0);
}
