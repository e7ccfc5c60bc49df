#include "jobs/overdue.hpp"

#include <doctest/doctest.h>

using namespace stemd;
using storage::job_status;

namespace {

jobs::service_options options() {
    jobs::service_options o;
    o.overdue_factor = 3;
    o.overdue_floor = std::chrono::seconds(300);
    o.unknown_task_after = std::chrono::milliseconds(3'600'000);
    o.max_attempts = 2;
    o.download.max_duration = std::chrono::milliseconds(1'000'000);
    o.retry_cap = std::chrono::milliseconds(200'000);
    return o;
}

storage::job_record job(job_status status, std::optional<double> eta = std::nullopt) {
    storage::job_record j;
    j.id = "j";
    j.status = status;
    j.created_at = 10'000;
    j.updated_at = 50'000;
    j.eta = eta;
    return j;
}

} // namespace

TEST_CASE("overdue: a job waiting for MusicGPT: the webhook's overdue point plus "
          "unknown_task_after, from creation") {
    const auto o = options();
    // eta 1000 s: 3 * 1000 s beats the 300 s floor.
    CHECK(jobs::overdue_at(job(job_status::submitted, 1000), o) == 10'000 + 3'000'000 + 3'600'000);
    // no eta: the floor.
    CHECK(jobs::overdue_at(job(job_status::submitting), o) == 10'000 + 300'000 + 3'600'000);
}

TEST_CASE("overdue: a downloading job: max_attempts of (max_seconds + the longest back-off) "
          "from its last change") {
    CHECK(jobs::overdue_at(job(job_status::downloading), options()) == 50'000 + 2 * 1'200'000);
}

TEST_CASE("overdue: final jobs have no bound") {
    CHECK_FALSE(jobs::overdue_at(job(job_status::completed), options()));
    CHECK_FALSE(jobs::overdue_at(job(job_status::failed), options()));
}

TEST_CASE("overdue: overdue_jobs keeps only those past their bound, in order") {
    const auto o = options();
    auto a = job(job_status::submitted);
    a.id = "a";
    auto b = job(job_status::downloading);
    b.id = "b";
    auto c = job(job_status::completed);
    c.id = "c";
    const millis bound_a = *jobs::overdue_at(a, o);           // 3'910'000
    const millis bound_b = *jobs::overdue_at(b, o);           // 2'450'000
    CHECK(jobs::overdue_jobs({a, b, c}, o, bound_b).empty()); // at the bound is not past it
    auto late = jobs::overdue_jobs({a, b, c}, o, bound_b + 1);
    REQUIRE(late.size() == 1);
    CHECK(late[0].id == "b");
    late = jobs::overdue_jobs({a, b, c}, o, bound_a + 1);
    REQUIRE(late.size() == 2);
    CHECK(late[0].id == "a");
}
