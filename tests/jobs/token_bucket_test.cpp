#include "jobs/token_bucket.hpp"

#include <doctest/doctest.h>

using namespace stemd::jobs;
using namespace std::chrono_literals;
using clock_t_ = token_bucket::clock;

TEST_CASE("token bucket: a burst of `capacity`, then one token per 1/rate") {
    const auto t0 = clock_t_::time_point{} + 1000s;
    token_bucket b(2, 1.0, t0);
    CHECK(b.take(t0) == clock_t_::duration::zero());
    CHECK(b.take(t0) == clock_t_::duration::zero());
    CHECK(b.take(t0) == std::chrono::duration_cast<clock_t_::duration>(1s));
    CHECK(b.take(t0 + 500ms) == std::chrono::duration_cast<clock_t_::duration>(500ms));
    CHECK(b.take(t0 + 1s) == clock_t_::duration::zero());
    // Refill never exceeds the capacity.
    CHECK(b.take(t0 + 100s) == clock_t_::duration::zero());
    CHECK(b.take(t0 + 100s) == clock_t_::duration::zero());
    CHECK(b.take(t0 + 100s) > clock_t_::duration::zero());
}

TEST_CASE("token bucket: per_minute never lets a 60 s window exceed the allowance") {
    const auto t0 = clock_t_::time_point{} + 1000s;
    auto b = token_bucket::per_minute(20, t0);
    // Take greedily for a minute, at 10 ms steps.
    int taken = 0;
    for (auto t = t0; t < t0 + 60s; t += 10ms)
        if (b.take(t) == clock_t_::duration::zero())
            ++taken;
    CHECK(taken <= 20);
    CHECK(taken >= 19);
}

TEST_CASE("token bucket: per_minute of 1 or less still gives one call") {
    const auto t0 = clock_t_::time_point{} + 1000s;
    auto b = token_bucket::per_minute(0, t0);
    CHECK(b.take(t0) == clock_t_::duration::zero());
    CHECK(b.take(t0) > clock_t_::duration::zero());
}

TEST_CASE("token bucket: pause_until gives nothing before, then one token") {
    const auto t0 = clock_t_::time_point{} + 1000s;
    token_bucket b(5, 1.0, t0);
    b.pause_until(t0 + 30s);
    CHECK(b.take(t0 + 10s) == std::chrono::duration_cast<clock_t_::duration>(20s));
    CHECK(b.take(t0 + 30s) == clock_t_::duration::zero());
    CHECK(b.take(t0 + 30s) > clock_t_::duration::zero()); // no full burst after a pause
    // A pause that ends before the last update changes nothing.
    b.pause_until(t0);
    CHECK(b.take(t0 + 31s) == clock_t_::duration::zero());
}
