#include "jobs/stem_removal.hpp"

#include "tests/support/workspace.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using stemd::jobs::remove_stems;

namespace {

bool mentions(const std::vector<std::string>& kept, const std::string& what) {
    return std::any_of(kept.begin(), kept.end(),
                       [&](const std::string& k) { return k.find(what) != std::string::npos; });
}

} // namespace

TEST_CASE("stem removal: a job's files, their .part and resume records, then empty folders") {
    stemd::test::workspace ws("stem-removal");
    const auto out = ws / "stems";
    const auto vocals = ws.write("stems/task-1/vocals.mp3", "12345");
    const auto wav = ws.write("stems/task-1/wav/vocals.wav", "123");
    ws.write("stems/task-1/drums.mp3.part", "12");
    ws.write("stems/task-1/drums.mp3.part.meta", "{}");
    const auto other = ws.write("stems/task-2/vocals.mp3", "keep");

    const auto r =
        remove_stems(out, {vocals.string(), wav.string(), (out / "task-1" / "drums.mp3").string(),
                           (out / "task-1" / "bass.mp3").string()});
    CHECK(r.kept.empty());
    CHECK(r.files == 4);
    CHECK(r.bytes == 5 + 3 + 2 + 2);
    CHECK(r.directories == 2); // task-1/wav, then task-1
    CHECK_FALSE(fs::exists(out / "task-1"));
    CHECK(fs::exists(other));
    CHECK(fs::exists(out));
    // Already gone: nothing to do, no complaint.
    CHECK(remove_stems(out, {vocals.string()}).kept.empty());
}

TEST_CASE("stem removal: a folder holding something else stays") {
    stemd::test::workspace ws("stem-removal");
    const auto out = ws / "stems";
    const auto vocals = ws.write("stems/task-1/vocals.mp3", "12345");
    const auto notes = ws.write("stems/task-1/notes.txt", "the user's");
    const auto r = remove_stems(out, {vocals.string()});
    CHECK(r.files == 1);
    CHECK(r.directories == 0);
    CHECK(fs::exists(notes));
}

TEST_CASE("stem removal: links and paths outside output_dir are never followed") {
    stemd::test::workspace ws("stem-removal");
    const auto out = ws / "stems";
    const auto precious = ws.write("precious/vocals.mp3", "not stemd's");
    fs::create_directories(out / "task-1");
    // A stem replaced by a link to a file elsewhere.
    fs::create_symlink(precious, out / "task-1" / "vocals.mp3");
    // A task folder replaced by a link to a folder elsewhere.
    fs::create_directory_symlink(ws / "precious", out / "task-2");

    const auto r = remove_stems(
        out, {(out / "task-1" / "vocals.mp3").string(), (out / "task-2" / "vocals.mp3").string(),
              precious.string(), (out / ".." / "precious" / "vocals.mp3").string(), out.string()});
    CHECK(r.files == 0);
    CHECK(fs::exists(precious));
    CHECK(fs::is_symlink(out / "task-1" / "vocals.mp3"));
    CHECK(fs::is_symlink(out / "task-2"));
    REQUIRE(r.kept.size() == 5);
    CHECK(mentions(r.kept, "task-1/vocals.mp3: a symbolic link"));
    CHECK(mentions(r.kept, "task-2: a symbolic link"));
    CHECK(mentions(r.kept, "not beneath storage.output_dir"));
}

TEST_CASE("stem removal: a relative output_dir matches the relative paths recorded under it") {
    stemd::test::workspace ws("stem-removal");
    const auto vocals = ws.write("var/stems/t/vocals.mp3", "1");
    const auto cwd = fs::current_path();
    fs::current_path(ws.path());
    const auto r = remove_stems("var/stems", {"var/stems/t/vocals.mp3", "var/other/x.mp3"});
    fs::current_path(cwd);
    CHECK(r.files == 1);
    CHECK_FALSE(fs::exists(vocals));
    CHECK(mentions(r.kept, "var/other/x.mp3: not beneath"));
}
