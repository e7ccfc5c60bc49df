#include "musicgpt/by_id.hpp"

#include "musicgpt/error.hpp"

#include <doctest/doctest.h>

#include <string>

using stemd::musicgpt::error;
using stemd::musicgpt::read_status_reply;
using stemd::musicgpt::report;

TEST_CASE("read_status_reply: the conversion record, read like a webhook") {
    const auto r = read_status_reply(200, R"json({"success":true,"conversion":{"task_id":"t-9",
        "conversion_id":"c-9","status":"COMPLETED",
        "audio_url":"{\"vocals\":\"https://h/v.mp3\"}"}})json",
                                     "t-9");
    REQUIRE(r.has_value());
    CHECK_FALSE(r->refused.has_value());
    CHECK(r->conversion.what == report::state::succeeded);
    CHECK(r->conversion.conversion_id == "c-9");
    REQUIRE(r->conversion.links.size() == 1);
    CHECK(r->conversion.links[0].name == "vocals");
}

TEST_CASE("read_status_reply: a record without its task is about the task asked for") {
    for (const auto* body : {R"({"conversion":{"status":"IN_QUEUE"}})",
                             R"({"conversion":{"task_id":null,"status":"IN_QUEUE"}})"}) {
        CAPTURE(body);
        const auto r = read_status_reply(200, body, "t-1");
        REQUIRE(r.has_value());
        CHECK(r->conversion.task_id == "t-1");
        CHECK(r->conversion.what == report::state::pending);
        CHECK(r->conversion.upstream_status == "IN_QUEUE");
    }
    // One naming another task is left for the caller to notice.
    const auto other = read_status_reply(200, R"({"conversion":{"task_id":"t-2"}})", "t-1");
    REQUIRE(other.has_value());
    CHECK(other->conversion.task_id == "t-2");
}

TEST_CASE("read_status_reply: refusals are data, unusable answers errors") {
    const auto busy = read_status_reply(429, R"({"message":"slow down"})", "t");
    REQUIRE(busy.has_value());
    REQUIRE(busy->refused.has_value());
    CHECK(busy->refused->http_status == 429);
    CHECK(busy->refused->message == "slow down");

    const auto empty = read_status_reply(200, R"({"success":true})", "t-\n1");
    REQUIRE_FALSE(empty.has_value());
    CHECK(empty.error().code == error::bad_answer);
    CHECK(empty.error().message ==
          "MusicGPT answered the status query for task t- 1 without a conversion record");

    const auto bad = read_status_reply(200, R"({"conversion":{"task_id":7}})", "t");
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().code == error::bad_field);
    CHECK(bad.error().message.rfind("MusicGPT's status answer is unusable: task_id", 0) == 0);
}
