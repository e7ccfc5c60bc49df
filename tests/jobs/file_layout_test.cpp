#include "jobs/file_layout.hpp"

#include "common/file_names.hpp"

#include <doctest/doctest.h>

using namespace stemd::jobs;

TEST_CASE("file layout: {output_dir}/{task}/{subdir}/{name}.{ext}") {
    CHECK(
        destination("/srv/stems", "task-1", {"vocals", "", "https://cdn.example/a/x.mp3?sig=1"}) ==
        "/srv/stems/task-1/vocals.mp3");
    CHECK(destination("/srv/stems", "task-1", {"vocals", "wav", "https://cdn.example/x.wav"}) ==
          "/srv/stems/task-1/wav/vocals.wav");
}

TEST_CASE("file layout: without an extension in the URL the name stays bare") {
    CHECK(destination("/srv/stems", "task-1", {"drums", "", "https://cdn.example/download"}) ==
          "/srv/stems/task-1/drums");
}

TEST_CASE("file layout: the task directory is made safe") {
    const auto p = destination("/srv/stems", "../../etc", {"x", "", "https://cdn.example/x.mp3"});
    // One folder under output_dir, whatever the task_id says.
    CHECK(p.parent_path().parent_path() == "/srv/stems");
    CHECK(p == std::filesystem::path("/srv/stems") / stemd::safe_dir("../../etc") / "x.mp3");
}

TEST_CASE("file layout: two task ids never share a directory") {
    const stemd::musicgpt::stem_link link{"x", "", "https://cdn.example/x.mp3"};
    CHECK(destination("/srv/stems", ".T", link) != destination("/srv/stems", "T", link));
    CHECK(destination("/srv/stems", "a/b", link) != destination("/srv/stems", "a_b", link));
}
