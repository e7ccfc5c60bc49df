// The status look-ups' budget over a real sqlite_store, opened twice on
// one file as two processes would: one bucket for both.

#include "jobs/status_budget.hpp"

#include "storage/sqlite_store.hpp"
#include "tests/support/workspace.hpp"

#include <deque>

#include <doctest/doctest.h>

using namespace stemd;
using namespace std::chrono_literals;

namespace {

struct fixture {
    test::workspace ws{"jobs-status-budget"};
    storage::sqlite_store first = storage::sqlite_store::open(ws / "jobs.db").value();
    storage::sqlite_store second = storage::sqlite_store::open(ws / "jobs.db").value();
};

} // namespace

TEST_CASE("status budget: sized so that a burst and its refill fit in one minute") {
    const auto twenty = jobs::per_minute_budget(20);
    CHECK(twenty.capacity == doctest::Approx(2));
    CHECK(twenty.per_second == doctest::Approx(18.0 / 60));
    const auto one = jobs::per_minute_budget(1);
    CHECK(one.capacity == doctest::Approx(1));
    CHECK(one.per_second == doctest::Approx(1.0 / 60));
}

TEST_CASE_FIXTURE(fixture, "status budget: two processes never exceed the allowance together") {
    const int per_minute = 20;
    const storage::millis start = 1'000'000;
    std::deque<storage::millis> window; // grants of the last 60 s
    int granted = 0;
    // Five minutes in 100 ms steps, both asking at every step.
    for (storage::millis now = start; now < start + 300'000; now += 100) {
        for (auto* s : {&first, &second}) {
            auto wait = jobs::take_status_token(*s, per_minute, now);
            REQUIRE(wait.has_value());
            if (*wait == 0ms) {
                ++granted;
                window.push_back(now);
            } else {
                CHECK(*wait >= 1ms);
                CHECK(*wait <= 60'000ms);
            }
            while (!window.empty() && window.front() <= now - 60'000)
                window.pop_front();
            REQUIRE(static_cast<int>(window.size()) <= per_minute);
        }
    }
    // The steady rate is used, not starved: a burst of 2, then 18 a minute.
    CHECK(granted >= 2 + 18 * 5 - 1);
    CHECK(granted <= 2 + 18 * 5 + 1);
}

TEST_CASE_FIXTURE(fixture, "status budget: a pause by one process holds the other back") {
    const storage::millis now = 5'000'000;
    REQUIRE(jobs::take_status_token(first, 20, now).value() == 0ms);
    REQUIRE(jobs::pause_status_budget(first, now + 30'000).has_value());
    const auto wait = jobs::take_status_token(second, 20, now + 1'000);
    REQUIRE(wait.has_value());
    CHECK(*wait >= 29'000ms);
    // A shorter pause later does not cut the first one short.
    REQUIRE(jobs::pause_status_budget(second, now + 10'000).has_value());
    CHECK(jobs::take_status_token(first, 20, now + 20'000).value() >= 10'000ms);
    // Once it ends, look-ups resume.
    CHECK(jobs::take_status_token(second, 20, now + 30'000).value() == 0ms);
}
