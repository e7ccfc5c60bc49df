#include "storage/store.hpp"

#include "store_fixture.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

namespace storage = stemd::storage;
using namespace stemd::storage::testing;
using storage::file_status;
using storage::job_status;

namespace {

// A job with two files to download, vocals and drums.
storage::job_record job_with_files(storage::store& store, const std::string& task_id) {
    auto job = submitted_job(store, task_id);
    auto d = success({stem_link("vocals"), stem_link("drums")}, task_id);
    // Each job writes into its own directory.
    for (auto& p : d.paths) {
        p = "/srv/" + task_id + p;
    }
    return ok(apply(store, job.id, d));
}

} // namespace

TEST_CASE_TEMPLATE("store claims: two owners never hold the same file", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto job = job_with_files(store, "task-1");
    const auto t = storage::now_millis();

    auto mine = ok(store.claim_files(owner, t, lease, 10));
    REQUIRE(mine.size() == 2);
    for (const auto& file : mine) {
        CHECK(file.status == file_status::downloading);
        CHECK(file.attempts == 1);
        CHECK(file.claim_owner == owner);
        CHECK(file.claim_until == t + lease);
    }
    CHECK(ok(store.find(job.id)).status == job_status::downloading);
    CHECK(ok(store.claim_files(other_owner, t, lease, 10)).empty());
    CHECK(ok(store.runnable_files(t, 10)).empty());
    fails_with(store.claim_file(mine[0].id, other_owner, t, lease), storage::error::claim_lost);
    // The limit is respected, and the owner's own claim may be taken again.
    auto again = ok(store.claim_file(mine[0].id, owner, t, lease));
    CHECK(again.attempts == 2);

    auto other = job_with_files(store, "task-2");
    auto one = ok(store.claim_files(other_owner, storage::now_millis(), lease, 1));
    REQUIRE(one.size() == 1);
    CHECK(one[0].job_id == other.id);
}

TEST_CASE_TEMPLATE("store claims: a claimed file wakes the scheduler when it may be taken over", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto job = submitted_job(store, "task-1");
    job = ok(apply(store, job.id, success({stem_link("vocals")})));
    const auto t = storage::now_millis();
    auto mine = ok(store.claim_files(owner, t, lease, 1));
    REQUIRE(mine.size() == 1);
    CHECK(ok(store.next_wakeup()) == std::optional<storage::millis>(t + lease));
    ok(store.file_retry(mine[0].id, owner, "reset", t + 2 * lease));
    CHECK(ok(store.next_wakeup()) == std::optional<storage::millis>(t + 2 * lease));
}

TEST_CASE_TEMPLATE("store claims: one destination is never claimed twice, even across jobs", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    // Two jobs whose vocals go to the same file.
    auto a = submitted_job(store, "task-a");
    auto b = submitted_job(store, "task-b");
    a = ok(apply(store, a.id, success({stem_link("vocals"), stem_link("drums")}, "task-a")));
    b = ok(apply(store, b.id, success({stem_link("vocals")}, "task-b")));
    const auto t = storage::now_millis();

    auto claimed = ok(store.claim_files(owner, t, lease, 10));
    REQUIRE(claimed.size() == 2);
    CHECK(claimed[0].id == file_named(a, "vocals").id);
    CHECK(claimed[1].id == file_named(a, "drums").id);
    CHECK(ok(store.claim_files(other_owner, t, lease, 10)).empty());
    fails_with(store.claim_file(file_named(b, "vocals").id, owner, t, lease),
               storage::error::claim_lost);

    // Once the first is written, the second may be.
    ok(store.file_done(claimed[0].id, owner, "/srv/stems/vocals.mp3", 3, "aa"));
    auto next = ok(store.claim_files(other_owner, t, lease, 10));
    REQUIRE(next.size() == 1);
    CHECK(next[0].id == file_named(b, "vocals").id);
}

TEST_CASE_TEMPLATE("store claims: an expired claim is taken over and the first owner loses it", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    job_with_files(store, "task-1");
    const auto t = storage::now_millis();
    const storage::millis short_lease = 60'000;

    auto mine = ok(store.claim_files(owner, t, short_lease, 1));
    REQUIRE(mine.size() == 1);
    const auto id = mine[0].id;
    // Still held a moment before it runs out.
    auto before = ok(store.claim_files(other_owner, t + short_lease - 1, short_lease, 10));
    REQUIRE(before.size() == 1);
    CHECK(before[0].id != id);

    auto taken = ok(store.claim_files(other_owner, t + short_lease, short_lease, 10));
    REQUIRE(taken.size() == 1);
    CHECK(taken[0].id == id);
    CHECK(taken[0].attempts == 2);
    CHECK(taken[0].claim_owner == other_owner);

    const auto why =
        fails_with(store.file_done(id, owner, "/p", 1, "aa"), storage::error::claim_lost);
    CHECK(why.find(std::string(other_owner)) != std::string::npos);
    CHECK(ok(store.renew_claims(owner, t, short_lease)) == 0);
    auto job = ok(store.file_done(id, other_owner, "/p", 1, "aa"));
    CHECK(file_named(job, "vocals").status == file_status::done);
    CHECK(file_named(job, "vocals").claim_owner.empty());
}

TEST_CASE_TEMPLATE("store claims: renewing extends the claims of one owner only", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    job_with_files(store, "task-1");
    job_with_files(store, "task-2");
    const auto t = storage::now_millis();
    const storage::millis short_lease = 60'000;

    REQUIRE(ok(store.claim_files(owner, t, short_lease, 2)).size() == 2);
    REQUIRE(ok(store.claim_files(other_owner, t, short_lease, 2)).size() == 2);
    CHECK(ok(store.renew_claims(owner, t + 30'000, short_lease)) == 2);

    // The other owner's claims run out at t + lease; the renewed ones later.
    auto taken = ok(store.claim_files("owner-c", t + short_lease, short_lease, 10));
    CHECK(taken.size() == 2);
    for (const auto& file : taken) {
        CHECK(file.job_id == taken[0].job_id);
    }
    CHECK(ok(store.claim_files("owner-c", t + 30'000 + short_lease - 1, short_lease, 10)).empty());
    CHECK(ok(store.claim_files("owner-c", t + 30'000 + short_lease, short_lease, 10)).size() == 2);
}

TEST_CASE_TEMPLATE("store claims: a released claim refuses every end of the download", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto job = job_with_files(store, "task-1");
    const auto t = storage::now_millis();
    auto mine = ok(store.claim_files(owner, t, lease, 1));
    REQUIRE(mine.size() == 1);
    const auto id = mine[0].id;

    CHECK(ok(store.release_all_claims()) == 1);
    const auto why =
        fails_with(store.file_done(id, owner, "/p", 1, "aa"), storage::error::claim_lost);
    CHECK(why.find("released") != std::string::npos);
    fails_with(store.file_retry(id, owner, "x", t), storage::error::claim_lost);
    fails_with(store.file_failed(id, owner, "x"), storage::error::claim_lost);
    fails_with(store.file_link_expired(id, owner, "x", t), storage::error::claim_lost);
    // Left as it was, for anyone to resume.
    job = ok(store.find(job.id));
    CHECK(job.status == job_status::downloading);
    auto resumed = ok(store.claim_files(other_owner, t, lease, 10));
    REQUIRE(resumed.size() == 2);
    CHECK(resumed[0].id == id);
    CHECK(resumed[0].attempts == 2);
    CHECK(ok(store.release_all_claims()) == 2);
    CHECK(ok(store.release_all_claims()) == 0);
}

TEST_CASE_TEMPLATE("store claims: claims survive closing and reopening", E, STORE_ENGINES) {
    fixture<E> fx;
    std::string job_id;
    std::int64_t file_id = 0;
    auto job = job_with_files(fx.store(), "task-1");
    const auto t = storage::now_millis();
    {
        auto& store = fx.store();
        job_id = job.id;
        ok(store.schedule_poll(job.id, t));
        auto mine = ok(store.claim_files(owner, t, lease, 1));
        REQUIRE(mine.size() == 1);
        file_id = mine[0].id;
        REQUIRE(ok(store.claim_polls(owner, t, lease, 10)).size() == 1);
    }
    auto& store = fx.reopen();
    auto files = ok(store.claim_files(other_owner, t, lease, 10));
    REQUIRE(files.size() == 1);
    CHECK(files[0].id != file_id);
    CHECK(ok(store.claim_polls(other_owner, t, lease, 10)).empty());
    CHECK(ok(store.next_poll_due()) == std::optional<storage::millis>(t + lease));

    job = ok(store.find(job_id));
    CHECK(job.poll_owner == owner);
    CHECK(job.poll_until == t + lease);
    ok(store.release_poll(job_id, owner));
    ok(store.file_done(file_id, owner, "/p", 1, "aa"));
}

TEST_CASE_TEMPLATE("store claims: a look-up is held by one owner until released or expired", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    const auto t = storage::now_millis();
    const storage::millis short_lease = 60'000;
    auto a = submitted_job(store, "task-a");
    auto b = submitted_job(store, "task-b");
    ok(store.schedule_poll(a.id, t - 2));
    ok(store.schedule_poll(b.id, t - 1));

    auto mine = ok(store.claim_polls(owner, t, short_lease, 1));
    REQUIRE(mine.size() == 1);
    CHECK(mine[0].id == a.id);
    CHECK(mine[0].poll_owner == owner);
    auto due = ok(store.jobs_due_for_poll(t, 10));
    REQUIRE(due.size() == 1);
    CHECK(due[0].id == b.id);
    auto theirs = ok(store.claim_polls(other_owner, t, short_lease, 10));
    REQUIRE(theirs.size() == 1);
    CHECK(theirs[0].id == b.id);
    CHECK(ok(store.claim_polls("owner-c", t, short_lease, 10)).empty());
    CHECK(ok(store.next_poll_due()) == std::optional<storage::millis>(t + short_lease));

    // Not the other owner's to end.
    fails_with(store.poll_again(a.id, other_owner, t + 1'000), storage::error::claim_lost);
    fails_with(store.release_poll(a.id, other_owner), storage::error::claim_lost);
    // The server asked to wait: the plan moves, nothing is counted.
    ok(store.release_poll(a.id, owner, t + 5'000));
    auto released = ok(store.find(a.id));
    CHECK(released.poll_owner.empty());
    CHECK(released.next_poll_at == std::optional<storage::millis>(t + 5'000));
    CHECK(released.poll_attempts == 0);
    fails_with(store.release_poll(a.id, owner), storage::error::claim_lost);

    // b's owner died: its look-up is taken over when the claim runs out.
    CHECK(ok(store.renew_claims(owner, t + short_lease, short_lease)) == 0);
    auto taken = ok(store.claim_polls(owner, t + short_lease, short_lease, 10));
    REQUIRE(taken.size() == 2);
    CHECK(taken[0].id == b.id);
    fails_with(store.poll_again(b.id, other_owner, t), storage::error::claim_lost);
    ok(store.poll_again(b.id, owner, t + 10'000));
    CHECK(ok(store.find(b.id)).poll_attempts == 1);

    // A job that became final meanwhile is released without a new plan.
    ok(store.mark_failed(a.id, "gave up"));
    ok(store.release_poll(a.id, owner, t + 1'000));
    CHECK_FALSE(ok(store.find(a.id)).next_poll_at.has_value());
}

TEST_CASE_TEMPLATE("store claims: files of a final job are never claimed", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto job = job_with_files(store, "task-1");
    ok(store.mark_failed(job.id, "gave up"));
    const auto t = storage::now_millis();
    CHECK(ok(store.claim_files(owner, t, lease, 10)).empty());
    fails_with(store.claim_file(job.files[0].id, owner, t, lease),
               storage::error::invalid_transition);
    fails_with(store.claim_file(job.files[0].id + 100, owner, t, lease), storage::error::not_found);
}

TEST_CASE_TEMPLATE("store claims: release_claims of one owner releases only its claims", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    store.set_outbox_channels({"url"});
    auto job = job_with_files(store, "task-1");
    auto polled = submitted_job(store, "task-2");
    const auto t = storage::now_millis() + 1000;
    ok(store.schedule_poll(job.id, t));
    ok(store.schedule_poll(polled.id, t));
    for (const auto* task : {"task-3", "task-4"}) {
        ok(store.mark_failed(submitted_job(store, task).id, "upstream refused it"));
    }

    auto my_files = ok(store.claim_files(owner, t, lease, 1));
    auto my_polls = ok(store.claim_polls(owner, t, lease, 1));
    auto my_events = ok(store.claim_notifications(owner, t, lease, 1));
    REQUIRE(my_files.size() == 1);
    REQUIRE(my_polls.size() == 1);
    REQUIRE(my_events.size() == 1);
    REQUIRE(ok(store.claim_files(other_owner, t, lease, 1)).size() == 1);
    REQUIRE(ok(store.claim_polls(other_owner, t, lease, 1)).size() == 1);
    REQUIRE(ok(store.claim_notifications(other_owner, t, lease, 1)).size() == 1);

    CHECK(ok(store.release_claims(owner)) == 3);
    // The file stays downloading, to be resumed by whoever claims it next.
    std::optional<storage::file_record> left;
    for (const auto& f : ok(store.find(job.id)).files) {
        if (f.id == my_files[0].id)
            left = f;
    }
    REQUIRE(left.has_value());
    CHECK(left->status == file_status::downloading);
    CHECK(left->claim_owner.empty());
    fails_with(store.file_retry(my_files[0].id, owner, "x", t), storage::error::claim_lost);

    // Only what `owner` held can be taken at once; the other owner's live
    // claims are untouched.
    auto files = ok(store.claim_files("owner-c", t, lease, 10));
    REQUIRE(files.size() == 1);
    CHECK(files[0].id == my_files[0].id);
    auto polls = ok(store.claim_polls("owner-c", t, lease, 10));
    REQUIRE(polls.size() == 1);
    CHECK(polls[0].id == my_polls[0].id);
    auto events = ok(store.claim_notifications("owner-c", t, lease, 10));
    REQUIRE(events.size() == 1);
    CHECK(events[0].id == my_events[0].id);

    CHECK(ok(store.release_claims(owner)) == 0);
    CHECK(ok(store.release_claims(other_owner)) == 3);
    CHECK(ok(store.release_claims("owner-c")) == 3);
}
