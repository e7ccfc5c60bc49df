#include "client/partial_file.hpp"

#include "client/error.hpp"
#include "common/crypto.hpp"
#include "tests/support/workspace.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>

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

directory open_dir(const fs::path& p) {
    auto d = directory::open(p, {});
    REQUIRE(d.has_value());
    return std::move(*d);
}

// What open() does before a resume: the prefix hashed, then kept.
stemd::result<partial_file> resume(const directory& d, const std::string& name,
                                   std::uint64_t keep) {
    auto file = partial_file::open(d, name);
    if (!file)
        return file.error();
    auto reader = file->reader();
    REQUIRE(reader.has_value());
    auto hash = partial_file::hash_prefix(std::move(*reader), keep, file->path());
    if (!hash)
        return hash.error();
    REQUIRE(file->resume_after(keep, std::move(*hash)).has_value());
    return file;
}

} // namespace

TEST_CASE("inspect_disk with the URL's extension looks at that name only") {
    workspace dir("partial-file-test");
    const auto d = open_dir(dir.path());
    auto none = inspect_disk(d, "v", "mp3");
    REQUIRE(none.has_value());
    CHECK(none->extension == "mp3");
    CHECK_FALSE(none->part.has_value());
    CHECK_FALSE(none->complete.has_value());

    write_file(dir.path() / "v.mp3", "done");
    auto complete = inspect_disk(d, "v", "mp3");
    REQUIRE(complete->complete.has_value());
    CHECK(*complete->complete == dir.path() / "v.mp3");

    // A .part means a newer download was under way.
    write_file(dir.path() / "v.mp3.part", "12345");
    auto part = inspect_disk(d, "v", "mp3");
    CHECK(part->part == 5u);
    CHECK_FALSE(part->complete.has_value());
    CHECK_FALSE(inspect_disk(d, "v", "wav")->part.has_value());
}

TEST_CASE("inspect_disk without an extension finds files by name") {
    workspace dir("partial-file-test");
    const auto d = open_dir(dir.path());
    write_file(dir.path() / "v.flac", "done");
    write_file(dir.path() / "vv.mp3.part", "other name");
    write_file(dir.path() / "v.tar.gz", "two dots: not ours");
    auto complete = inspect_disk(d, "v", "");
    REQUIRE(complete.has_value());
    CHECK(complete->extension == "flac");
    CHECK(complete->complete == dir.path() / "v.flac");

    write_file(dir.path() / "v.wav.part", "123");
    write_file(dir.path() / "v.mp3.part", "1234567");
    auto part = inspect_disk(d, "v", "");
    CHECK(part->extension == "mp3"); // the largest .part
    CHECK(part->part == 7u);
    CHECK_FALSE(part->complete.has_value());
}

TEST_CASE("partial_file: written bytes are hashed and finished under the final name") {
    workspace dir("partial-file-test");
    const fs::path final_path = dir.path() / "v.mp3";
    const auto d = open_dir(dir.path());
    auto file = partial_file::open(d, "v.mp3");
    REQUIRE(file.has_value());
    REQUIRE(file->start_over().has_value());
    CHECK(file->path() == dir.path() / "v.mp3.part");
    REQUIRE(file->write(bytes_of("hello ")).has_value());
    REQUIRE(file->write(bytes_of("world")).has_value());
    CHECK(file->size() == 11);
    CHECK(read_file(file->path()) == "hello world");

    auto digest = file->finish();
    REQUIRE(digest.has_value());
    CHECK(*digest == stemd::sha256_hex("hello world"));
    CHECK(read_file(final_path) == "hello world");
    CHECK_FALSE(fs::exists(dir.path() / "v.mp3.part"));

    auto whole = digest_file(d, "v.mp3");
    REQUIRE(whole.has_value());
    CHECK(whole->bytes == 11);
    CHECK(whole->sha256 == *digest);
}

TEST_CASE("partial_file: a resumed prefix is kept and counted in the digest") {
    workspace dir("partial-file-test");
    const auto d = open_dir(dir.path());
    write_file(dir.path() / "v.wav.part", "hello ");
    auto file = resume(d, "v.wav", 6);
    REQUIRE(file.has_value());
    CHECK(file->size() == 6);
    REQUIRE(file->write(bytes_of("world")).has_value());
    CHECK(file->finish().value() == stemd::sha256_hex("hello world"));
}

TEST_CASE("partial_file: a prefix that shrank, a failed open, discard") {
    workspace dir("partial-file-test");
    const auto d = open_dir(dir.path());
    write_file(dir.path() / "v.mp3.part", "abc");
    {
        auto shrunk = resume(d, "v.mp3", 10);
        REQUIRE_FALSE(shrunk.has_value());
        CHECK(shrunk.error().code == error::file_io);
        CHECK(shrunk.error().message.find("shrank") != std::string::npos);
    }

    auto file = partial_file::open(d, "v.mp3");
    REQUIRE(file.has_value());
    REQUIRE(file->discard().has_value());
    CHECK_FALSE(fs::exists(dir.path() / "v.mp3.part"));

    fs::create_directories(dir.path() / "d.mp3.part");
    auto blocked = partial_file::open(d, "d.mp3");
    REQUIRE_FALSE(blocked.has_value());
    CHECK(blocked.error().transient());
    CHECK(blocked.error().message.find((dir.path() / "d.mp3.part").string()) != std::string::npos);

    write_file(dir.path() / "x.mp3.part", "x");
    REQUIRE(remove_part(d, "x.mp3").has_value());
    CHECK_FALSE(fs::exists(dir.path() / "x.mp3.part"));
}

TEST_CASE("inspect_disk: one name's .part or record is never another name's final file") {
    // Key "x" left "x.mp3.part" (and its record); key "x.mp3", whose URL
    // has no extension, looks for "x.mp3.{ext}" and must not take them.
    workspace dir("partial-file-test");
    const auto d = open_dir(dir.path());
    write_file(dir.path() / "x.mp3.part", "half of x");
    write_file(dir.path() / "x.mp3.part.meta", "record of x");
    write_file(dir.path() / "x.mp3.part.meta.tmp", "record of x, unfinished");
    for (const char* name : {"x.mp3", "x.mp3.part", "x.mp3.part.meta"}) {
        CAPTURE(name);
        auto other = inspect_disk(d, name, "");
        REQUIRE(other.has_value());
        CHECK_FALSE(other->complete.has_value());
        CHECK_FALSE(other->part.has_value());
        CHECK(other->extension.empty());
    }
    CHECK(is_reserved_extension("part"));
    CHECK(is_reserved_extension("meta"));
    CHECK(is_reserved_extension("tmp"));
    CHECK_FALSE(is_reserved_extension("mp3"));
}

TEST_CASE("partial_file: files are never reached through a link") {
    workspace dir("partial-file-test");
    const auto d = open_dir(dir.path());
    write_file(dir.path() / "target", "untouched");
    fs::create_symlink(dir.path() / "target", dir.path() / "v.mp3.part");
    fs::create_symlink(dir.path() / "target", dir.path() / "w.mp3");

    auto file = partial_file::open(d, "v.mp3");
    REQUIRE_FALSE(file.has_value());
    CHECK(file.error().message.find("symbolic link") != std::string::npos);
    CHECK_FALSE(inspect_disk(d, "w", "mp3")->complete.has_value());
    CHECK_FALSE(digest_file(d, "w.mp3").has_value());
    CHECK(read_file(dir.path() / "target") == "untouched");
}

TEST_CASE("partial_file: a .part being written is locked against a second writer") {
    workspace dir("partial-file-test");
    const auto d = open_dir(dir.path());
    auto first = partial_file::open(d, "v.mp3");
    REQUIRE(first.has_value());
    REQUIRE(first->start_over().has_value());
    REQUIRE(first->write(bytes_of("first")).has_value());

    auto second = partial_file::open(d, "v.mp3");
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error().transient());
    CHECK(second.error().message.find("another download") != std::string::npos);
    CHECK(read_file(dir.path() / "v.mp3.part") == "first");

    REQUIRE(first->finish().has_value());
    CHECK(partial_file::open(d, "v.mp3").has_value());
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

TEST_CASE("partial_file: a lock taken on what is no longer the .part is refused") {
    workspace dir("partial-file-test");
    const auto d = open_dir(dir.path());
    const auto opened = [&] {
        stemd::unique_fd fd(::open((dir.path() / "v.mp3.part").c_str(), O_RDWR | O_CREAT, 0644));
        REQUIRE(static_cast<bool>(fd));
        return fd;
    };
    // Another download finished between our open and our lock: what we
    // opened is now the complete file.
    write_file(dir.path() / "v.mp3.part", "complete");
    {
        auto fd = opened();
        fs::rename(dir.path() / "v.mp3.part", dir.path() / "v.mp3");
        CHECK(lock_if_current(d, "v.mp3.part", fd.get()).value() == false);
        // ... and a new .part of another download took the name.
        write_file(dir.path() / "v.mp3.part", "newer");
        CHECK(lock_if_current(d, "v.mp3.part", fd.get()).value() == false);
    }
    CHECK(read_file(dir.path() / "v.mp3") == "complete");
    // Another download discarded it: what we opened is deleted.
    {
        auto fd = opened();
        fs::remove(dir.path() / "v.mp3.part");
        CHECK(lock_if_current(d, "v.mp3.part", fd.get()).value() == false);
    }
    auto fd = opened();
    CHECK(lock_if_current(d, "v.mp3.part", fd.get()).value() == true);
}

TEST_CASE("partial_file: a resumed prefix is read from the locked file, not by name") {
    workspace dir("partial-file-test");
    const auto d = open_dir(dir.path());
    write_file(dir.path() / "v.mp3.part", "locked bytes");
    auto file = partial_file::open(d, "v.mp3");
    REQUIRE(file.has_value());
    // Whatever the name leads to by the time the hash starts.
    fs::rename(dir.path() / "v.mp3.part", dir.path() / "elsewhere");
    write_file(dir.path() / "v.mp3.part", "other bytes!");
    auto reader = file->reader();
    REQUIRE(reader.has_value());
    auto hash = partial_file::hash_prefix(std::move(*reader), 12, file->path());
    REQUIRE(hash.has_value());
    CHECK(hash->finish_hex() == stemd::sha256_hex("locked bytes"));
}

TEST_CASE("partial_file: no temporary resume record is left behind") {
    workspace dir("partial-file-test");
    const auto d = open_dir(dir.path());
    const resume_record record{"https://cdn.example:443/v.mp3", "\"v1\"", 10};
    const auto temporary = [&](const std::string& final_name) {
        return dir.path() / (final_name + ".part.meta.tmp");
    };

    SUBCASE("when saving fails") {
        // The rename onto a directory that is not empty fails.
        fs::create_directories(dir.path() / "v.mp3.part.meta" / "x");
        auto saved = save_resume_record(d, "v.mp3", record);
        REQUIRE_FALSE(saved.has_value());
        CHECK(saved.error().message.find("renaming") != std::string::npos);
        CHECK_FALSE(fs::exists(temporary("v.mp3")));
    }
    SUBCASE("a crash's leftover, once the .part is locked, removed or finished") {
        write_file(temporary("a.mp3"), "object x");
        auto opened = partial_file::open(d, "a.mp3");
        REQUIRE(opened.has_value());
        CHECK_FALSE(fs::exists(temporary("a.mp3")));

        write_file(temporary("b.mp3"), "object x");
        REQUIRE(remove_part(d, "b.mp3").has_value());
        CHECK_FALSE(fs::exists(temporary("b.mp3")));

        REQUIRE(opened->start_over().has_value());
        write_file(temporary("a.mp3"), "object x");
        REQUIRE(opened->finish().has_value());
        CHECK_FALSE(fs::exists(temporary("a.mp3")));
    }
}

// Run under strace by fsync_check.sh (records), which checks that the
// directory is fsync'd after each resume record is deleted: after a restart
// the next transfer may save none (no validator) and so flush nothing.
TEST_CASE("partial_file: a deleted resume record is made durable") {
    workspace dir("partial-file-durable");
    const auto d = open_dir(dir.path());
    const resume_record record{"https://cdn.example:443/v.mp3", "\"v1\"", 10};
    // Both saved first: a save's own fsync must not pass for a deletion's.
    REQUIRE(save_resume_record(d, "v.mp3", record).has_value());
    REQUIRE(save_resume_record(d, "w.mp3", record).has_value());
    auto file = partial_file::open(d, "v.mp3");
    REQUIRE(file.has_value());
    REQUIRE(file->discard().has_value()); // a restart
    CHECK_FALSE(fs::exists(dir.path() / "v.mp3.part.meta"));

    write_file(dir.path() / "w.mp3.part", "abc");
    REQUIRE(remove_part(d, "w.mp3").has_value());
    CHECK_FALSE(fs::exists(dir.path() / "w.mp3.part.meta"));

    // Finished: the record must not outlive the .part in a crash, or it
    // stays beside the complete file for good.
    REQUIRE(save_resume_record(d, "x.mp3", record).has_value());
    auto finished = partial_file::open(d, "x.mp3");
    REQUIRE(finished.has_value());
    REQUIRE(finished->start_over().has_value());
    REQUIRE(finished->finish().has_value());
    CHECK_FALSE(fs::exists(dir.path() / "x.mp3.part.meta"));
}
