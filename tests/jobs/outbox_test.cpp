#include "jobs/outbox.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>

using namespace stemd::jobs;
using namespace std::chrono_literals;

TEST_CASE("outbox: the retry schedule runs about a day, its jitter within 20%") {
    constexpr std::uint64_t lowest = 0;
    constexpr std::uint64_t highest = std::numeric_limits<std::uint64_t>::max();
    CHECK(notify_retry_delay(1, lowest) == 4000ms);
    CHECK(*notify_retry_delay(1, highest) < 6000ms);
    CHECK(*notify_retry_delay(1, highest) > 5990ms);
    CHECK(notify_retry_delay(2, lowest) == 24'000ms);
    CHECK(notify_retry_delay(3, lowest) == 96'000ms);
    CHECK(notify_retry_delay(6, lowest) ==
          std::chrono::milliseconds(std::chrono::hours(1)) * 8 / 10);
    CHECK(!notify_retry_delay(0, lowest));
    CHECK(!notify_retry_delay(notify_max_attempts(), lowest));
    CHECK(notify_retry_delay(notify_max_attempts() - 1, lowest).has_value());
    // The middle of the range is the schedule itself.
    CHECK(notify_retry_delay(1, std::uint64_t{1} << 63) == 5000ms);

    std::chrono::milliseconds total{0};
    for (int n = 1; n < notify_max_attempts(); ++n)
        total += *notify_retry_delay(n, std::uint64_t{1} << 63);
    CHECK(total > 20h);
    CHECK(total < 26h);

    // Any random source stays within [0.8, 1.2) of the step, and spreads.
    std::mt19937_64 rng(7);
    std::chrono::milliseconds low = 1h, high = 0ms;
    for (int i = 0; i < 1000; ++i) {
        const auto d = *notify_retry_delay(4, rng());
        CHECK(d >= 480'000ms);
        CHECK(d < 720'000ms);
        low = std::min(low, d);
        high = std::max(high, d);
    }
    CHECK(high - low > 200'000ms);
}

TEST_CASE("outbox: the receiver's answer decides") {
    for (unsigned s : {200u, 201u, 204u, 299u})
        CHECK(judge_answer(s) == receiver_verdict::delivered);
    for (unsigned s : {400u, 401u, 403u, 404u, 410u, 413u, 422u, 499u})
        CHECK(judge_answer(s) == receiver_verdict::refused);
    for (unsigned s : {100u, 301u, 302u, 307u, 408u, 429u, 500u, 502u, 503u, 599u})
        CHECK(judge_answer(s) == receiver_verdict::retry);
}

TEST_CASE("outbox: a command's environment comes from the event") {
    stemd::storage::notification_record n;
    n.id = "msg_1";
    n.type = "job.completed";
    n.job_id = "j1";
    n.body =
        R"({"type":"job.completed","timestamp":"t","data":{"job_id":"j1","task_id":"t1",)"
        R"("status":"completed","error":"","files":[{"path":"/a/v.mp3"},{"path":"/a/d.mp3"}]}})";
    const auto env = command_environment(n);
    const auto has = [&](const std::string& v) {
        return std::find(env.begin(), env.end(), v) != env.end();
    };
    CHECK(has("STEMD_EVENT_ID=msg_1"));
    CHECK(has("STEMD_EVENT_TYPE=job.completed"));
    CHECK(has("STEMD_JOB_ID=j1"));
    CHECK(has("STEMD_TASK_ID=t1"));
    CHECK(has("STEMD_STATUS=completed"));
    CHECK(has("STEMD_ERROR="));
    CHECK(has("STEMD_FILES=/a/v.mp3\n/a/d.mp3"));
    CHECK(has("STEMD_EVENT_JSON=" + n.body));
}
