#include "jobs/describe.hpp"

#include <doctest/doctest.h>

using namespace stemd::jobs;
using namespace std::chrono_literals;

TEST_CASE("describe: a refusal with its status, code and message") {
    CHECK(
        describe({.http_status = 402, .error_code = "INSUFFICIENT_CREDITS", .message = "top up"}) ==
        "MusicGPT answered HTTP 402 INSUFFICIENT_CREDITS: top up");
    CHECK(describe({.http_status = 500}) == "MusicGPT answered HTTP 500");
    CHECK(describe({.message = "connection refused"}) ==
          "MusicGPT could not be reached: connection refused");
}

TEST_CASE("describe: seconds_text rounds up") {
    CHECK(seconds_text(0ms) == "0 s");
    CHECK(seconds_text(1ms) == "1 s");
    CHECK(seconds_text(15'000ms) == "15 s");
    CHECK(seconds_text(15'001ms) == "16 s");
}
