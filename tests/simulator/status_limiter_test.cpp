#include "simulator/status_limiter.hpp"

#include <doctest/doctest.h>

using stemd::simulator::status_limiter;
using namespace std::chrono_literals;

TEST_CASE("status_limiter without a limit admits every call") {
    status_limiter limiter(0, 1000ms);
    const auto now = status_limiter::clock::now();
    for (int i = 0; i < 100; ++i) {
        CHECK_FALSE(limiter.refuse(now));
    }
}

TEST_CASE("status_limiter admits `limit` calls per sliding window") {
    status_limiter limiter(2, 1000ms);
    const auto t0 = status_limiter::clock::now();
    CHECK_FALSE(limiter.refuse(t0));
    CHECK_FALSE(limiter.refuse(t0 + 400ms));
    // Full: the wait is until the oldest call leaves the window.
    const auto wait = limiter.refuse(t0 + 500ms);
    REQUIRE(wait);
    CHECK(*wait == 500ms);
    // A refused call is not counted: the first leaves at t0 + 1000 ms.
    CHECK_FALSE(limiter.refuse(t0 + 1000ms));
    const auto again = limiter.refuse(t0 + 1100ms);
    REQUIRE(again);
    CHECK(*again == 300ms); // the call at t0 + 400 ms leaves at t0 + 1400 ms
}
