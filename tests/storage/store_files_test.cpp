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

TEST_CASE_TEMPLATE("store: retries wait for their time", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    CHECK_FALSE(ok(store.next_wakeup()).has_value());

    auto job = submitted_job(store, "task-1");
    job = ok(apply(store, job.id, success({stem_link("vocals"), stem_link("drums")})));
    const auto t = storage::now_millis();
    const auto drums = file_named(job, "drums").id;
    const auto vocals = file_named(job, "vocals").id;

    // New files are due at once, and not before they were created.
    CHECK(ok(store.runnable_files(t, 10)).size() == 2);
    CHECK(ok(store.runnable_files(0, 10)).empty());
    CHECK(ok(store.runnable_files(t, 1)).size() == 1);

    ok(start(store, drums));
    ok(start(store, vocals));
    ok(store.file_retry(drums, owner, "connection reset", t + 60'000));
    ok(store.file_retry(vocals, owner, "HTTP 503", t + 30'000));

    CHECK(ok(store.runnable_files(t + 29'999, 10)).empty());
    CHECK(ok(store.next_wakeup()) == std::optional<storage::millis>(t + 30'000));

    auto due = ok(store.runnable_files(t + 30'000, 10));
    REQUIRE(due.size() == 1);
    CHECK(due[0].id == vocals);
    CHECK(due[0].status == file_status::pending);
    CHECK(due[0].attempts == 1);
    CHECK(due[0].error == "HTTP 503");

    due = ok(store.runnable_files(t + 60'000, 10));
    REQUIRE(due.size() == 2);
    CHECK(due[0].id < due[1].id);

    auto again = ok(start(store, vocals));
    CHECK(again.attempts == 2);
    CHECK(ok(store.next_wakeup()) == std::optional<storage::millis>(t + 60'000));
}

TEST_CASE_TEMPLATE("store: a file left downloading by a crash is handed out again", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    std::int64_t file_id = 0;
    {
        auto& store = fx.store();
        auto job = submitted_job(store, "task-1");
        job = ok(apply(store, job.id, success({stem_link("vocals")})));
        file_id = job.files[0].id;
        ok(start(store, file_id));
    }
    // The restart of the one process using the store: what the dead one
    // claimed is free at once.
    auto& store = fx.reopen();
    CHECK(ok(store.release_all_claims()) == 1);
    auto due = ok(store.runnable_files(storage::now_millis(), 10));
    REQUIRE(due.size() == 1);
    CHECK(due[0].id == file_id);
    CHECK(due[0].status == file_status::downloading);
    auto resumed = ok(start(store, file_id));
    CHECK(resumed.attempts == 2);
    auto job = ok(store.file_done(file_id, owner, "/v.mp3", 5, "ee"));
    CHECK(job.status == job_status::completed);
}

TEST_CASE_TEMPLATE("store: a failed file fails its job, and a new delivery revives it", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto job = submitted_job(store, "task-1");
    job = ok(apply(store, job.id, success({stem_link("vocals", "wav"), stem_link("drums")})));
    const auto vocals = file_named(job, "vocals").id;

    ok(start(store, vocals));
    job = ok(store.file_failed(vocals, owner, "HTTP 403"));
    CHECK(job.status == job_status::failed);
    CHECK(job.error == "file wav/vocals: HTTP 403");
    CHECK(file_named(job, "vocals").status == file_status::failed);
    // Nothing of a failed job is handed out or waited for.
    CHECK(ok(store.runnable_files(storage::now_millis() + 1000, 10)).empty());
    CHECK_FALSE(ok(store.next_wakeup()).has_value());

    job = ok(apply(store, job.id, success({stem_link("vocals", "wav"), stem_link("drums")})));
    CHECK(job.status == job_status::downloading);
    CHECK(job.error.empty());
    const auto& revived = file_named(job, "vocals");
    CHECK(revived.status == file_status::pending);
    CHECK(revived.attempts == 0);
    CHECK(revived.error.empty());
    CHECK(ok(store.runnable_files(storage::now_millis(), 10)).size() == 2);
}

TEST_CASE_TEMPLATE("store: a delivery that misses a failed file leaves the job failed", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto job = submitted_job(store, "task-1");
    job = ok(apply(store, job.id, success({stem_link("vocals"), stem_link("drums")})));
    const auto drums = file_named(job, "drums").id;
    ok(start(store, drums));
    ok(store.file_failed(drums, owner, "too large"));

    job = ok(apply(store, job.id, success({stem_link("vocals")})));
    CHECK(job.status == job_status::failed);
    CHECK(job.error == "file drums: too large");
}

TEST_CASE_TEMPLATE("store: a refused link waits for fresh links from a look-up", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto job = submitted_job(store, "task-1");
    job = ok(apply(store, job.id, success({stem_link("vocals"), stem_link("drums")})));
    const auto vocals = file_named(job, "vocals").id;
    const auto t = storage::now_millis();

    ok(start(store, vocals));
    job = ok(store.file_link_expired(vocals, owner, "HTTP 403: link expired", t));
    const auto& waiting = file_named(job, "vocals");
    CHECK(waiting.status == file_status::pending);
    CHECK(waiting.next_attempt_at == storage::awaiting_fresh_link);
    CHECK(waiting.error == "HTTP 403: link expired");
    CHECK(waiting.attempts == 1);
    CHECK(job.status == job_status::downloading);
    CHECK(job.next_poll_at == std::optional<storage::millis>(t));

    // Not handed to the downloader however long it waits; the job is
    // handed to the poller instead.
    auto runnable = ok(store.runnable_files(t + 86'400'000, 10));
    REQUIRE(runnable.size() == 1);
    CHECK(runnable[0].name == "drums");
    auto due = ok(store.jobs_due_for_poll(t, 10));
    REQUIRE(due.size() == 1);
    CHECK(due[0].id == job.id);

    // A report without that file keeps the look-up planned.
    job = ok(apply(store, job.id, success({stem_link("drums")})));
    CHECK(job.next_poll_at.has_value());

    // Fresh links: due at once with the new URL, the attempt count kept
    // (it is the budget), and no more look-ups.
    job = ok(apply(
        store, job.id,
        success({stem_link("vocals", "", "https://cdn.example.com/v2"), stem_link("drums")})));
    const auto& fresh = file_named(job, "vocals");
    CHECK(fresh.url == "https://cdn.example.com/v2");
    CHECK(fresh.next_attempt_at <= storage::now_millis());
    CHECK(fresh.attempts == 1);
    CHECK_FALSE(job.next_poll_at.has_value());
    CHECK(ok(store.runnable_files(storage::now_millis(), 10)).size() == 2);

    // Only a file being downloaded can have its link refused.
    fails_with(store.file_link_expired(vocals, owner, "x", t), storage::error::invalid_transition);
    fails_with(store.file_link_expired(vocals + 100, owner, "x", t), storage::error::not_found);
}

TEST_CASE_TEMPLATE("store: refreshes of a refused link are counted until a retry", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto job = submitted_job(store, "task-1");
    job = ok(apply(store, job.id, success({stem_link("vocals")})));
    const auto vocals = file_named(job, "vocals").id;
    CHECK(file_named(job, "vocals").link_refreshes == 0);
    for (int n = 1; n <= 2; ++n) {
        ok(start(store, vocals));
        job = ok(store.file_link_expired(vocals, owner, "HTTP 404", storage::now_millis()));
        CHECK(file_named(job, "vocals").link_refreshes == n);
        // The same dead link given back: due again, the count kept.
        job = ok(apply(store, job.id, success({stem_link("vocals")})));
        CHECK(file_named(job, "vocals").link_refreshes == n);
        CHECK_FALSE(file_named(job, "vocals").awaits_fresh_link());
    }
    ok(start(store, vocals));
    ok(store.file_failed(vocals, owner, "refused again"));
    job = ok(store.retry(job.id, storage::now_millis()));
    CHECK(file_named(job, "vocals").link_refreshes == 0);
    CHECK(file_named(job, "vocals").attempts == 0);
}

TEST_CASE_TEMPLATE("store: a refused link keeps an earlier planned look-up", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto job = submitted_job(store, "task-1");
    job = ok(apply(store, job.id, success({stem_link("vocals")})));
    const auto t = storage::now_millis();
    ok(store.schedule_poll(job.id, t - 5'000));
    ok(start(store, job.files[0].id));
    job = ok(store.file_link_expired(job.files[0].id, owner, "HTTP 410", t));
    CHECK(job.next_poll_at == std::optional<storage::millis>(t - 5'000));
}
