// The output tree as the daemon writes it: a symbolic link planted below
// output_dir, where a task's folder goes, is not followed by a download.

#include "integration/stack.hpp"

#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <filesystem>

namespace json = boost::json;
using namespace stemd::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST_CASE("a symbolic link planted as a task's folder is refused, its target untouched") {
    // No webhooks and a byId look-up no sooner than 2 s after submission:
    // the link is planted well before stemd learns of any stem.
    stack s("output-tree-link",
            {.max_attempts = 1,
             .extra_config = "[reconcile]\noverdue_factor = 1\noverdue_floor = 2\n",
             .no_webhooks = true});
    s.start_simulator();
    s.start_serve();
    auto [status, created] =
        s.submit(R"({"audio_url":"https://songs.example/track.mp3","stems":["vocals"]})");
    REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
    const std::string task = str(created, "task_id");
    REQUIRE_FALSE(task.empty());
    const fs::path elsewhere = s.ws().path() / "elsewhere";
    fs::create_directories(elsewhere);
    fs::create_directories(s.output_dir());
    fs::create_directory_symlink(elsewhere, s.output_dir() / task);

    auto job = s.wait_for(str(created, "id"), "failed", 30s);
    CHECK_MESSAGE(s.serve_logs().find("it is a symbolic link, which a download never follows") !=
                      std::string::npos,
                  s.logs());
    CHECK_MESSAGE(fs::is_empty(elsewhere), json::serialize(job));
    CHECK(fs::is_symlink(s.output_dir() / task));
}
