#include "jobs/poll_plan.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

using namespace stemd::jobs;
using namespace std::chrono_literals;

TEST_CASE("poll plan: with webhooks, overdue_factor * eta but at least the floor") {
    const poll_timing t{.webhooks = true, .overdue_factor = 3, .overdue_floor = 300s};
    CHECK(first_poll_delay(t, 200.0) == 600'000ms);
    CHECK(first_poll_delay(t, 10.0) == 300'000ms);
    CHECK(first_poll_delay(t, std::nullopt) == 300'000ms);
    CHECK(first_poll_delay(t, -1.0) == 300'000ms);
    CHECK(first_poll_delay(t, std::numeric_limits<double>::infinity()) == 300'000ms);
    CHECK(first_poll_delay(t, std::nan("")) == 300'000ms);
    // An eta beyond a day counts as a day.
    CHECK(first_poll_delay(t, 1e9) == 3 * 86'400'000ms);
}

TEST_CASE("poll plan: without webhooks, at the eta, but not at once") {
    const poll_timing t{.webhooks = false, .overdue_factor = 3, .overdue_floor = 300s};
    CHECK(first_poll_delay(t, 120.0) == 120'000ms);
    CHECK(first_poll_delay(t, 0.0) == 10'000ms);
    const poll_timing short_floor{.webhooks = false, .overdue_factor = 3, .overdue_floor = 2s};
    CHECK(first_poll_delay(short_floor, 0.0) == 2'000ms);
}
