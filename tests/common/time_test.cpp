#include "common/time.hpp"

#include <doctest/doctest.h>

using namespace stemd;

TEST_CASE("time: rfc3339 prints UTC with milliseconds") {
    CHECK(rfc3339(0) == "1970-01-01T00:00:00.000Z");
    CHECK(rfc3339(1'764'072'000'123) == "2025-11-25T12:00:00.123Z");
    CHECK(rfc3339(951'782'400'000) == "2000-02-29T00:00:00.000Z"); // leap day
}

TEST_CASE("time: rfc3339 before the epoch floors, never prints a negative millisecond") {
    CHECK(rfc3339(-1) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("time: now_millis is the wall clock in milliseconds") {
    const millis a = now_millis();
    CHECK(a > 1'700'000'000'000); // after 2023
    CHECK(now_millis() >= a);
}
