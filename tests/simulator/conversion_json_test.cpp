#include "simulator/conversion_json.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include <string>

using namespace stemd::simulator;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

task finished_task(int api_version) {
    task t;
    t.api_version = api_version;
    t.task_id = "t1";
    t.conversion_id = "c1";
    t.stems = {"drums"};
    t.audio_path = "https://x/a.mp3";
    t.created_at = std::chrono::system_clock::time_point(1'700'000'000'000ms);
    t.finished_at = t.created_at + 300ms;
    t.ready_at = std::chrono::steady_clock::now() - 1s;
    return t;
}

stem_links test_links() {
    stem_links links(0ms);
    links.set_public_url("http://sim");
    return links;
}

} // namespace

TEST_CASE("webhook_body v2: the stem map as audio_url, cost and duration") {
    const auto body = webhook_body(finished_task(2), test_links(), 44 + 88200);
    CHECK(body.at("success").as_bool());
    CHECK(body.at("conversion_type").as_string() == "Extraction");
    CHECK(body.at("task_id").as_string() == "t1");
    CHECK(body.at("conversion_id").as_string() == "c1");
    const auto map = json::parse(body.at("audio_url").as_string());
    CHECK(map.at("drums").as_string() == "http://sim/files/t1/drums.wav");
    CHECK(body.at("audio_url_wav") == body.at("audio_url"));
    CHECK(body.at("conversion_cost").as_double() == 0.157);
    CHECK(body.at("conversion_duration").as_double() == 1.0);
}

TEST_CASE("webhook_body v1: one key per stem, a failed task says so") {
    const auto v1 = webhook_body(finished_task(1), test_links(), 1000);
    CHECK(v1.at("drums").as_string() == "http://sim/files/t1/drums.wav");
    CHECK(v1.at("audio_path").as_string() == "https://x/a.mp3");
    CHECK(v1.at("conversion_cost").as_double() == 5.0);

    task failed = finished_task(2);
    failed.fail = true;
    const auto body = webhook_body(failed, test_links(), 1000);
    CHECK_FALSE(body.at("success").as_bool());
    CHECK(body.at("message").as_string() == "Simulated extraction failure");
    CHECK_FALSE(body.contains("audio_url"));
}

TEST_CASE("conversion_record: IN_QUEUE, then COMPLETED or FAILED") {
    task t = finished_task(2);
    const auto done = conversion_record(t, test_links(), 1000);
    CHECK(done.at("status").as_string() == "COMPLETED");
    CHECK(done.at("createdAt").as_string() == "2023-11-14T22:13:20.000Z");
    CHECK(done.at("updatedAt").as_string() == "2023-11-14T22:13:20.300Z");
    CHECK(done.contains("audio_url"));

    t.ready_at = std::chrono::steady_clock::now() + 1h;
    const auto queued = conversion_record(t, test_links(), 1000);
    CHECK(queued.at("status").as_string() == "IN_QUEUE");
    CHECK(queued.at("updatedAt") == queued.at("createdAt"));
    CHECK_FALSE(queued.contains("audio_url"));

    t.ready_at = std::chrono::steady_clock::now() - 1s;
    t.fail = true;
    const auto failed = conversion_record(t, test_links(), 1000);
    CHECK(failed.at("status").as_string() == "FAILED");
    CHECK(failed.at("status_msg").as_string() == "Simulated extraction failure");
}
