#include "jobs/backoff.hpp"

#include <doctest/doctest.h>

#include <random>

using namespace stemd::jobs;
using namespace std::chrono_literals;

TEST_CASE("backoff: doubled from base per attempt, capped") {
    CHECK(doubled(1000ms, 300'000ms, 1) == 1000ms);
    CHECK(doubled(1000ms, 300'000ms, 2) == 2000ms);
    CHECK(doubled(1000ms, 300'000ms, 5) == 16'000ms);
    CHECK(doubled(1000ms, 300'000ms, 10) == 300'000ms);
    CHECK(doubled(1000ms, 300'000ms, 0) == 1000ms);
    CHECK(doubled(1000ms, 300'000ms, -3) == 1000ms);
    // Huge attempt counts neither overflow nor pass the cap.
    CHECK(doubled(1000ms, 300'000ms, 1'000'000) == 300'000ms);
}

TEST_CASE("backoff: jittered stays within [d/2, d] and follows the random value") {
    CHECK(jittered(1000ms, 0) == 500ms);
    CHECK(jittered(1000ms, 500) == 1000ms);
    CHECK(jittered(1000ms, 501) == 500ms);
    CHECK(jittered(0ms, 12345) == 0ms);
    CHECK(jittered(1ms, 1) == 1ms);
    std::mt19937_64 rng(42);
    for (int i = 0; i < 1000; ++i) {
        const auto d = jittered(15'000ms, rng());
        CHECK(d >= 7'500ms);
        CHECK(d <= 15'000ms);
    }
}

TEST_CASE("backoff: backoff is the jittered doubling") {
    CHECK(backoff(1000ms, 300'000ms, 3, 0) == 2000ms);
    CHECK(backoff(1000ms, 300'000ms, 3, 2000) == 4000ms);
    CHECK(backoff(15'000ms, 60'000ms, 9, 0) == 30'000ms);
}
