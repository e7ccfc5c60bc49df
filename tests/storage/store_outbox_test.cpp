#include "storage/store.hpp"

#include "store_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <doctest/doctest.h>

#include <string>

namespace storage = stemd::storage;
namespace json = boost::json;
using namespace stemd::storage::testing;
using storage::job_status;

namespace {

// A job downloading one file, claimed by `owner`.
std::pair<storage::job_record, storage::file_record> one_file_claimed(storage::store& s,
                                                                      const std::string& task) {
    auto job = submitted_job(s, task);
    ok(apply(s, job.id, success({stem_link("vocals")}, task)));
    auto file = ok(start(s, file_named(ok(s.find(job.id)), "vocals").id));
    return {job, file};
}

storage::notification_end ended(std::string_view status, std::string_view error = "",
                                storage::millis at = 0) {
    return {status, error, at};
}

} // namespace

TEST_CASE_TEMPLATE("store: without channels no outbox event is written", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& s = fx.store();
    auto [job, file] = one_file_claimed(s, "task-quiet");
    auto done = ok(s.file_done(file.id, owner, "/stems/vocals.mp3", 10, "abc"));
    CHECK(done.status == job_status::completed);
    CHECK(done.notifications.empty());
    CHECK(ok(s.notifications(std::nullopt, 100)).empty());
}

TEST_CASE_TEMPLATE("store: the last file done writes one job.completed event in its transaction", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& s = fx.store();
    s.set_outbox_channels({"url", "command"});
    auto [job, file] = one_file_claimed(s, "task-done");
    CHECK(ok(s.find(job.id)).notifications.empty()); // not final yet
    auto done = ok(s.file_done(file.id, owner, "/stems/vocals.mp3", 10, "abc"));
    REQUIRE(done.notifications.size() == 2);
    const auto& n = done.notifications[0];
    CHECK(n.id.starts_with("msg_"));
    CHECK(n.id != done.notifications[1].id);
    CHECK(n.type == "job.completed");
    CHECK(n.status == "pending");
    CHECK(n.attempts == 0);
    CHECK(n.next_attempt_at.has_value());
    CHECK(done.notifications[0].channel != done.notifications[1].channel);
    const auto body = json::parse(n.body).as_object();
    CHECK(body.at("type").as_string() == "job.completed");
    const auto& data = body.at("data").as_object();
    CHECK(data.at("job_id").as_string() == job.id);
    CHECK(data.at("task_id").as_string() == "task-done");
    CHECK(data.at("status").as_string() == "completed");
    const auto& files = data.at("files").as_array();
    REQUIRE(files.size() == 1);
    CHECK(files[0].at("name").as_string() == "vocals");
    CHECK(files[0].at("path").as_string() == "/stems/vocals.mp3");
    CHECK(files[0].at("bytes").as_int64() == 10);
    CHECK(files[0].at("sha256").as_string() == "abc");
    CHECK(ok(s.gauges()).pending_notifications == 2);
}

TEST_CASE_TEMPLATE("store: every way into failed writes one job.failed event", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& s = fx.store();
    s.set_outbox_channels({"url"});
    SUBCASE("mark_failed") {
        auto job = submitted_job(s, "task-f1");
        ok(s.mark_failed(job.id, "gave up"));
        auto found = ok(s.find(job.id));
        REQUIRE(found.notifications.size() == 1);
        CHECK(found.notifications[0].type == "job.failed");
        CHECK(json::parse(found.notifications[0].body).at("data").at("error").as_string() ==
              "gave up");
        // Already failed: failing again writes nothing more.
        ok(apply(s, job.id, failure("again")));
        CHECK(ok(s.find(job.id)).notifications.size() == 1);
    }
    SUBCASE("file_failed") {
        auto [job, file] = one_file_claimed(s, "task-f2");
        auto failed = ok(s.file_failed(file.id, owner, "HTTP 500"));
        REQUIRE(failed.notifications.size() == 1);
        CHECK(failed.notifications[0].type == "job.failed");
    }
    SUBCASE("apply") {
        auto job = submitted_job(s, "task-f3");
        auto failed = ok(apply(s, job.id, failure("no luck")));
        CHECK(failed.notifications.size() == 1);
    }
    SUBCASE("give_up_submitting") {
        auto job = ok(s.create_job(request()));
        auto failed = ok(s.give_up_submitting(job.id, "left submitting"));
        CHECK(failed.notifications.size() == 1);
    }
    SUBCASE("failing again after a retry is a new event") {
        auto [job, file] = one_file_claimed(s, "task-f4");
        ok(s.file_failed(file.id, owner, "HTTP 500"));
        auto again = ok(s.retry(job.id, 1000));
        CHECK(again.status == job_status::downloading);
        CHECK(again.notifications.size() == 1);
        ok(start(s, file.id));
        auto failed = ok(s.file_failed(file.id, owner, "HTTP 500 again"));
        REQUIRE(failed.notifications.size() == 2);
        CHECK(failed.notifications[0].id != failed.notifications[1].id);
    }
}

TEST_CASE_TEMPLATE("store: outbox events are claimed under a lease and ended once", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& s = fx.store();
    s.set_outbox_channels({"url"});
    auto job = submitted_job(s, "task-claim");
    ok(s.mark_failed(job.id, "x"));
    const auto now = storage::now_millis() + 1000;
    auto claimed = ok(s.claim_notifications(owner, now, lease, 10));
    REQUIRE(claimed.size() == 1);
    CHECK(claimed[0].attempts == 1);
    CHECK(claimed[0].claim_owner == owner);
    // Held: nobody else gets it, until the lease runs out.
    CHECK(ok(s.claim_notifications(other_owner, now, lease, 10)).empty());
    CHECK(ok(s.next_notification_due()) == std::optional<storage::millis>(now + lease));
    auto taken = ok(s.claim_notifications(other_owner, now + lease, lease, 10));
    REQUIRE(taken.size() == 1);
    CHECK(taken[0].attempts == 2);
    fails_with(s.end_notification(claimed[0].id, owner, ended("delivered"), now),
               storage::error::claim_lost);
    // Tried again later: due only then.
    ok(s.end_notification(taken[0].id, other_owner, ended("pending", "HTTP 500", now + 5000), now));
    CHECK(ok(s.claim_notifications(owner, now + 4999, lease, 10)).empty());
    CHECK(ok(s.next_notification_due()) == std::optional<storage::millis>(now + 5000));
    auto third = ok(s.claim_notifications(owner, now + 5000, lease, 10));
    REQUIRE(third.size() == 1);
    CHECK(third[0].last_error == "HTTP 500");
    ok(s.end_notification(third[0].id, owner, ended("delivered"), now + 6000));
    auto listed = ok(s.notifications(std::string_view("delivered"), 10));
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].delivered_at == std::optional<storage::millis>(now + 6000));
    CHECK(!listed[0].next_attempt_at);
    CHECK(ok(s.notifications(std::string_view("pending"), 10)).empty());
    CHECK(ok(s.next_notification_due()) == std::nullopt);
    // Ended: it cannot end again.
    fails_with(s.end_notification(third[0].id, owner, ended("failed"), now),
               storage::error::claim_lost);
    CHECK(ok(s.gauges()).pending_notifications == 0);
}

TEST_CASE_TEMPLATE("store: outbox claims are released at a restart, and refused ends it", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    std::string id;
    {
        auto& s = fx.store();
        s.set_outbox_channels({"url"});
        auto job = submitted_job(s, "task-restart");
        ok(s.mark_failed(job.id, "x"));
        auto claimed = ok(s.claim_notifications(owner, storage::now_millis(), lease, 10));
        REQUIRE(claimed.size() == 1);
        id = claimed[0].id;
    }
    auto& s = fx.reopen();
    s.set_outbox_channels({"url"});
    CHECK(ok(s.release_all_claims()) >= 1);
    auto again = ok(s.claim_notifications(other_owner, storage::now_millis(), lease, 10));
    REQUIRE(again.size() == 1);
    CHECK(again[0].id == id);
    CHECK(again[0].attempts == 2);
    ok(s.end_notification(id, other_owner, ended("refused", "HTTP 400"), storage::now_millis()));
    CHECK(ok(s.claim_notifications(owner, storage::now_millis() + lease * 100, lease, 10)).empty());
    CHECK(ok(s.notifications(std::string_view("refused"), 10)).size() == 1);
    // A channel no longer configured keeps its events, untouched.
    s.set_outbox_channels({"command"});
    auto job = submitted_job(s, "task-other-channel");
    ok(s.mark_failed(job.id, "y"));
    s.set_outbox_channels({"url"});
    CHECK(ok(s.claim_notifications(owner, storage::now_millis() + 1000, lease, 10)).empty());
}

TEST_CASE_TEMPLATE("store: a retry ends the job's undelivered job.failed events", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& s = fx.store();
    s.set_outbox_channels({"url", "command"});
    auto [job, file] = one_file_claimed(s, "task-retried");
    ok(s.file_failed(file.id, owner, "HTTP 500"));
    const auto now = storage::now_millis() + 1000;
    // One of the two is being delivered when the retry comes.
    auto in_flight = ok(s.claim_notifications(owner, now, lease, 1));
    REQUIRE(in_flight.size() == 1);
    auto retried = ok(s.retry(job.id, now));
    REQUIRE(retried.notifications.size() == 2);
    for (const auto& n : retried.notifications) {
        CHECK(n.type == "job.failed");
        CHECK(n.status == "failed");
        CHECK(n.last_error.find("retried before") != std::string::npos);
        CHECK(!n.next_attempt_at);
        CHECK(n.claim_owner.empty());
    }
    CHECK(ok(s.claim_notifications(other_owner, now + lease * 100, lease, 10)).empty());
    CHECK(ok(s.gauges()).pending_notifications == 0);
    fails_with(s.end_notification(in_flight[0].id, owner, ended("delivered"), now),
               storage::error::claim_lost);
    // The retry's own outcome is the one left to tell.
    ok(start(s, file.id));
    auto done = ok(s.file_done(file.id, owner, "/stems/vocals.mp3", 10, "abc"));
    REQUIRE(done.notifications.size() == 4);
    auto due = ok(s.claim_notifications(owner, now + lease * 100, lease, 10));
    REQUIRE(due.size() == 2);
    CHECK(due[0].type == "job.completed");
    CHECK(due[1].type == "job.completed");
}

TEST_CASE_TEMPLATE("store: list pages and lists carry each job's notifications", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& s = fx.store();
    s.set_outbox_channels({"url"});
    auto job = submitted_job(s, "task-listed");
    ok(s.mark_failed(job.id, "gave up"));
    auto page = ok(s.list_page({.limit = 10}));
    REQUIRE(page.jobs.size() == 1);
    REQUIRE(page.jobs[0].notifications.size() == 1);
    CHECK(page.jobs[0].notifications[0].type == "job.failed");
    auto listed = ok(s.list(std::nullopt, 10));
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].notifications.size() == 1);
}

TEST_CASE_TEMPLATE("store: the heartbeat renews outbox claims, which expire without it", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& s = fx.store();
    s.set_outbox_channels({"url"});
    auto renewed_job = submitted_job(s, "task-renewed");
    ok(s.mark_failed(renewed_job.id, "x"));
    const auto t = storage::now_millis() + 1000;
    const storage::millis short_lease = 60'000;

    // A batch of one, claimed for a short lease and renewed halfway: it
    // stays with its owner past the first lease.
    auto mine = ok(s.claim_notifications(owner, t, short_lease, 8));
    REQUIRE(mine.size() == 1);
    CHECK(ok(s.renew_claims(owner, t + 30'000, short_lease)) == 1);
    CHECK(ok(s.claim_notifications(other_owner, t + short_lease, short_lease, 8)).empty());
    CHECK(ok(s.claim_notifications(other_owner, t + 30'000 + short_lease - 1, short_lease, 8))
              .empty());
    // The heartbeat of another owner renews nothing of it.
    CHECK(ok(s.renew_claims(other_owner, t + 30'000, lease)) == 0);
    ok(s.end_notification(mine[0].id, owner, ended("delivered"), t + 40'000));
    // An ended event has no claim left to renew.
    CHECK(ok(s.renew_claims(owner, t + 40'000, short_lease)) == 0);

    // Not renewed: taken over by another owner once its lease ran out.
    auto lapsed_job = submitted_job(s, "task-lapsed");
    ok(s.mark_failed(lapsed_job.id, "y"));
    const auto t2 = storage::now_millis() + 1000;
    auto first = ok(s.claim_notifications(owner, t2, short_lease, 8));
    REQUIRE(first.size() == 1);
    CHECK(ok(s.claim_notifications(other_owner, t2 + short_lease - 1, short_lease, 8)).empty());
    auto taken = ok(s.claim_notifications(other_owner, t2 + short_lease, short_lease, 8));
    REQUIRE(taken.size() == 1);
    CHECK(taken[0].id == first[0].id);
    CHECK(taken[0].claim_owner == other_owner);
    fails_with(s.end_notification(first[0].id, owner, ended("delivered"), t2 + short_lease),
               storage::error::claim_lost);

    // A claim longer than the heartbeat's lease (a delivery may take its
    // whole timeout) is never shortened by it.
    ok(s.end_notification(taken[0].id, other_owner, ended("delivered"), t2 + short_lease));
    auto long_job = submitted_job(s, "task-long");
    ok(s.mark_failed(long_job.id, "z"));
    const auto t3 = storage::now_millis() + 1000;
    REQUIRE(ok(s.claim_notifications(owner, t3, 4 * short_lease, 8)).size() == 1);
    CHECK(ok(s.renew_claims(owner, t3 + 1'000, short_lease)) == 1);
    CHECK(ok(s.claim_notifications(other_owner, t3 + 4 * short_lease - 1, short_lease, 8)).empty());
    CHECK(ok(s.claim_notifications(other_owner, t3 + 4 * short_lease, short_lease, 8)).size() == 1);
}
