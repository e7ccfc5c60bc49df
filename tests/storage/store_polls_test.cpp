#include "storage/store.hpp"

#include "store_fixture.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace storage = stemd::storage;
using namespace stemd::storage::testing;
using storage::file_status;
using storage::job_status;

namespace {

struct submitted_jobs {
    storage::job_record a, b, c;
};

// a is planned for a look-up at t + 30 s, b at t + 10 s, c never: without
// a planned time a job is never looked up.
submitted_jobs three_submitted_jobs(storage::store& store, storage::millis t) {
    auto a = ok(store.create_job(request()));
    ok(store.mark_submitted(a.id, "task-a", "conv-a", 10.0, 1.0, "IN_QUEUE", t + 30'000));
    auto b = ok(store.create_job(request()));
    ok(store.mark_submitted(b.id, "task-b", "conv-b", 10.0, 1.0, "IN_QUEUE", t + 10'000));
    auto c = ok(store.create_job(request()));
    ok(store.mark_submitted(c.id, "task-c", "conv-c", 10.0, 1.0, "IN_QUEUE"));
    return {std::move(a), std::move(b), std::move(c)};
}

} // namespace

TEST_CASE_TEMPLATE("store: a submitted job is due for a status look-up at its planned time", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    const auto t = storage::now_millis();
    CHECK_FALSE(ok(store.next_poll_due()).has_value());

    const auto [a, b, c] = three_submitted_jobs(store, t);

    CHECK(ok(store.find(a.id)).next_poll_at == std::optional<storage::millis>(t + 30'000));
    CHECK_FALSE(ok(store.find(c.id)).next_poll_at.has_value());
    CHECK(ok(store.next_poll_due()) == std::optional<storage::millis>(t + 10'000));
    CHECK(ok(store.jobs_due_for_poll(t + 9'999, 10)).empty());
    auto due = ok(store.jobs_due_for_poll(t + 30'000, 10));
    REQUIRE(due.size() == 2);
    CHECK(due[0].id == b.id); // earliest first
    CHECK(due[1].id == a.id);
    CHECK(ok(store.jobs_due_for_poll(t + 30'000, 1)).size() == 1);

    // Still in queue: counted, planned later.
    // b's look-up is taken first, a's with it the second time.
    REQUIRE(ok(store.claim_polls(owner, t + 10'000, lease, 1)).at(0).id == b.id);
    ok(store.poll_again(b.id, owner, t + 40'000));
    REQUIRE(ok(store.claim_polls(owner, t + 40'000, lease, 10)).size() == 2);
    ok(store.poll_again(b.id, owner, t + 50'000));
    ok(store.release_poll(a.id, owner));
    auto polled = ok(store.find(b.id));
    CHECK(polled.poll_attempts == 2);
    CHECK(polled.next_poll_at == std::optional<storage::millis>(t + 50'000));
    // A pending report changes nothing about the plan.
    polled = ok(apply(store, b.id, pending("PROCESSING")));
    CHECK(polled.upstream_status == "PROCESSING");
    CHECK(polled.next_poll_at == std::optional<storage::millis>(t + 50'000));
    CHECK(polled.poll_attempts == 2);

    // schedule_poll moves the plan without counting; nullopt cancels it.
    ok(store.schedule_poll(b.id, t + 1'000));
    CHECK(ok(store.find(b.id)).poll_attempts == 2);
    CHECK(ok(store.next_poll_due()) == std::optional<storage::millis>(t + 1'000));
    ok(store.schedule_poll(b.id, std::nullopt));
    CHECK(ok(store.next_poll_due()) == std::optional<storage::millis>(t + 30'000));

    // Links end the look-ups; so does failure.
    auto done = ok(apply(store, a.id, success({stem_link("vocals")}, "task-a")));
    CHECK(done.status == job_status::downloading);
    CHECK_FALSE(done.next_poll_at.has_value());
    CHECK(done.poll_attempts == 0);
    ok(store.schedule_poll(c.id, t));
    ok(store.mark_failed(c.id, "gave up"));
    CHECK_FALSE(ok(store.find(c.id)).next_poll_at.has_value());
    CHECK(ok(store.jobs_due_for_poll(t + 100'000, 10)).empty());
    CHECK_FALSE(ok(store.next_poll_due()).has_value());

    // Final jobs are never planned again.
    fails_with(store.schedule_poll(c.id, t), storage::error::invalid_transition);
    const auto why1 =
        fails_with(store.poll_again(c.id, owner, t), storage::error::invalid_transition);
    CHECK(why1.find("failed") != std::string::npos);
    fails_with(store.schedule_poll("jnope", t), storage::error::not_found);
    fails_with(store.poll_again("jnope", owner, t), storage::error::not_found);
}

TEST_CASE_TEMPLATE("store: a job without a task_id is never handed out for a look-up", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto job = ok(store.create_job(request()));
    ok(store.schedule_poll(job.id, 0));
    CHECK(ok(store.jobs_due_for_poll(storage::now_millis(), 10)).empty());
    CHECK_FALSE(ok(store.next_poll_due()).has_value());
}

TEST_CASE_TEMPLATE("store: a job whose fresh links cannot be had fails its waiting files", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto job = submitted_job(store, "task-1");
    job = ok(apply(store, job.id, success({stem_link("vocals"), stem_link("drums")})));
    const auto vocals = file_named(job, "vocals").id;
    const auto t = storage::now_millis();

    // Nothing waits yet: refused, nothing changes.
    REQUIRE(ok(store.claim_polls(owner, t, 60'000, 1)).empty());
    ok(start(store, vocals));
    ok(store.file_link_expired(vocals, owner, "HTTP 404", t));
    fails_with(store.fail_awaiting_links(job.id, "someone-else", "gone"),
               storage::error::claim_lost);
    REQUIRE(ok(store.claim_polls(owner, t, 60'000, 1)).size() == 1);
    // A report without the waiting file is an unsettled look-up: it counts.
    ok(store.poll_again(job.id, owner, t));
    job = ok(apply(store, job.id, success({stem_link("drums")})));
    CHECK(job.poll_attempts == 1);
    REQUIRE(ok(store.claim_polls(owner, t, 60'000, 1)).size() == 1);

    job = ok(store.fail_awaiting_links(job.id, owner, "task unknown to byId"));
    CHECK(job.status == job_status::failed);
    CHECK(job.error == "file vocals: task unknown to byId");
    CHECK(file_named(job, "vocals").status == file_status::failed);
    CHECK(file_named(job, "drums").status == file_status::pending); // it did not wait
    CHECK_FALSE(job.next_poll_at.has_value());
    CHECK(job.poll_owner.empty());
    CHECK(ok(store.next_poll_due()) == std::nullopt);
    // Final now: nothing more to fail.
    fails_with(store.fail_awaiting_links(job.id, owner, "again"),
               storage::error::invalid_transition);

    job = ok(store.retry(job.id, storage::now_millis()));
    CHECK(job.status == job_status::downloading);
    CHECK(file_named(job, "vocals").status == file_status::pending);
    CHECK(job.poll_attempts == 0);
}
