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

TEST_CASE_TEMPLATE("store: jobs and files survive closing and reopening", E, STORE_ENGINES) {
    fixture<E> fx;
    std::string id;
    {
        auto& store = fx.store();
        auto job = submitted_job(store, "task-1");
        id = job.id;
        ok(apply(store, id, success({stem_link("vocals"), stem_link("drums")})));
    }
    auto& store = fx.reopen();
    auto job = ok(store.find(id));
    CHECK(job.status == job_status::downloading);
    CHECK(job.task_id == "task-1");
    CHECK(job.conversion_id == "conv-task-1");
    REQUIRE(job.files.size() == 2);
    // Ordered by subdir, then name.
    CHECK(job.files[0].name == "drums");
    CHECK(job.files[1].name == "vocals");
    CHECK(job.files[1].url == "https://cdn.example.com/vocals?sig=1");
    CHECK(job.files[1].status == file_status::pending);
}

TEST_CASE_TEMPLATE("store: create_job stores the request and starts in submitting", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    const auto before = storage::now_millis();
    auto job = ok(store.create_job(request("aa11")));
    CHECK(job.id.size() == 17);
    CHECK(job.id.front() == 'j');
    CHECK(job.id.find_first_not_of("0123456789abcdef", 1) == std::string::npos);
    CHECK(job.status == job_status::submitting);
    CHECK(job.created_at >= before);
    CHECK(job.updated_at == job.created_at);
    CHECK(job.audio_url == "https://example.com/song.mp3");
    CHECK(job.stems_json == R"(["vocals","drums"])");
    CHECK(job.preprocessing_options_json == R"(["Denoise"])");
    CHECK(job.eco_mode);
    CHECK(job.task_id.empty());
    CHECK(job.files.empty());
    CHECK(ok(store.token_hash(job.id)) == "aa11");

    auto other = ok(store.create_job(request("bb22")));
    CHECK(other.id != job.id);
    fails_with(store.token_hash("j0000000000000000"), storage::error::not_found);
}

TEST_CASE_TEMPLATE("store: jobs are found by id, task_id, conversion_id and token hash", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto job = submitted_job(store, "task-1", "hash-1");
    submitted_job(store, "task-2", "hash-2");

    CHECK(ok(store.find(job.id)).id == job.id);
    CHECK(ok(store.find("task-1")).id == job.id);
    CHECK(ok(store.find("conv-task-1")).id == job.id);
    CHECK(ok(store.find_by_token_hash("hash-1")).id == job.id);
    CHECK(ok(store.find_by_token_hash("hash-2")).task_id == "task-2");

    const auto why1 = fails_with(store.find("task-3"), storage::error::not_found);
    CHECK(why1.find("task-3") != std::string::npos);
    fails_with(store.find(""), storage::error::not_found);
    fails_with(store.find_by_token_hash("hash-3"), storage::error::not_found);
    fails_with(store.find_by_token_hash(""), storage::error::not_found);
}

TEST_CASE_TEMPLATE("store: adopt creates a job for an unknown task and then finds it", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto adopted = ok(store.adopt("task-9", "conv-9"));
    CHECK(adopted.status == job_status::submitted);
    CHECK(adopted.task_id == "task-9");
    CHECK(adopted.conversion_id == "conv-9");
    CHECK(ok(store.token_hash(adopted.id)).empty());

    CHECK(ok(store.adopt("task-9", "")).id == adopted.id);
    CHECK(ok(store.adopt("task-9", "conv-9")).id == adopted.id);
    CHECK(ok(store.adopt("", "conv-9")).id == adopted.id);
    CHECK(ok(store.list(std::nullopt, 10)).size() == 1);

    // A job known only by conversion_id learns its task_id.
    auto partial = ok(store.adopt("", "conv-10"));
    CHECK(partial.task_id.empty());
    auto completed = ok(store.adopt("task-10", "conv-10"));
    CHECK(completed.id == partial.id);
    CHECK(completed.task_id == "task-10");

    fails_with(store.adopt("", ""), storage::error::not_found);
}

TEST_CASE_TEMPLATE("store: adopt refuses a job stemd submitted, by either id", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto mine = submitted_job(store, "task-1", "hash-1");
    for (const auto& [task, conversion] :
         {std::pair{"task-1", ""}, std::pair{"", "conv-task-1"}, std::pair{"task-1", "conv-x"}}) {
        const auto why = fails_with(store.adopt(task, conversion), storage::error::conflict);
        CHECK(why.find("was submitted by this stemd (job " + mine.id + ")") != std::string::npos);
    }
    const auto after = ok(store.find(mine.id));
    CHECK(after.conversion_id == "conv-task-1");
    CHECK(after.updated_at == mine.updated_at);
    CHECK(ok(store.list(std::nullopt, 10)).size() == 1);
}

TEST_CASE_TEMPLATE("store: one task_id cannot belong to two jobs", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto first = submitted_job(store, "task-1");
    auto second = ok(store.create_job(request()));

    const auto why2 = fails_with(
        store.mark_submitted(second.id, "task-1", "conv-x", std::nullopt, std::nullopt, ""),
        storage::error::conflict);
    CHECK(why2.find(first.id) != std::string::npos);
    // The task_id is free, the conversion_id is not: nothing of the refused
    // change may be kept.
    fails_with(
        store.mark_submitted(second.id, "task-new", "conv-task-1", std::nullopt, std::nullopt, ""),
        storage::error::conflict);
    auto unchanged = ok(store.find(second.id));
    CHECK(unchanged.status == job_status::submitting);
    CHECK(unchanged.task_id.empty());
    CHECK(unchanged.conversion_id.empty());
    fails_with(store.find("task-new"), storage::error::not_found);

    fails_with(apply(store, second.id, success({stem_link("vocals")}, "task-1")),
               storage::error::conflict);
    CHECK(ok(store.find(second.id)).files.empty());
    // A report naming another task than the job's own is refused as well.
    fails_with(apply(store, first.id, success({stem_link("vocals")}, "task-other")),
               storage::error::conflict);
    // An adopted task whose conversion_id belongs to another job.
    fails_with(store.adopt("task-new", "conv-task-1"), storage::error::conflict);
}

TEST_CASE_TEMPLATE("store: jobs without upstream ids do not collide", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto a = ok(store.create_job(request()));
    auto b = ok(store.create_job(request()));
    ok(store.mark_submitted(a.id, "", "", std::nullopt, std::nullopt, ""));
    ok(store.mark_submitted(b.id, "", "", std::nullopt, std::nullopt, ""));
    CHECK(ok(store.list(job_status::submitted, 10)).size() == 2);
}

TEST_CASE_TEMPLATE("store: changes a job's state does not allow are refused", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto job = submitted_job(store, "task-1");

    const auto why3 =
        fails_with(store.mark_submitted(job.id, "task-1", "", std::nullopt, std::nullopt, ""),
                   storage::error::invalid_transition);
    CHECK(why3.find("submitted") != std::string::npos);

    job = ok(apply(store, job.id, success({stem_link("vocals")})));
    const auto file_id = job.files[0].id;
    fails_with(store.file_done(file_id, owner, "/p", 1, "aa"), storage::error::invalid_transition);
    fails_with(store.file_retry(file_id, owner, "x", 0), storage::error::invalid_transition);
    fails_with(store.file_failed(file_id, owner, "x"), storage::error::invalid_transition);
    CHECK(ok(store.find(job.id)).files[0].status == file_status::pending);

    ok(store.mark_failed(job.id, "gave up"));
    fails_with(store.mark_failed(job.id, "again"), storage::error::invalid_transition);
    CHECK(ok(store.find(job.id)).error == "gave up");
    // The files of a failed job are not downloaded.
    fails_with(start(store, file_id), storage::error::invalid_transition);

    fails_with(store.mark_submitted("jnope", "t", "", std::nullopt, std::nullopt, ""),
               storage::error::not_found);
    fails_with(store.mark_failed("jnope", "x"), storage::error::not_found);
    fails_with(apply(store, "jnope", pending("IN_QUEUE")), storage::error::not_found);
    fails_with(start(store, file_id + 100), storage::error::not_found);
    fails_with(store.file_done(file_id + 100, owner, "/p", 1, "aa"), storage::error::not_found);
    fails_with(store.file_retry(file_id + 100, owner, "x", 0), storage::error::not_found);
    fails_with(store.file_failed(file_id + 100, owner, "x"), storage::error::not_found);
}

TEST_CASE_TEMPLATE("store: list is newest first, filtered and limited", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
        ids.push_back(submitted_job(store, "task-" + std::to_string(i)).id);
    }
    ok(store.mark_failed(ids[1], "x"));
    ok(store.mark_failed(ids[3], "y"));
    ok(apply(store, ids[4], success({stem_link("vocals")}, "task-4")));

    auto all = ok(store.list(std::nullopt, 100));
    REQUIRE(all.size() == 5);
    for (std::size_t i = 0; i < all.size(); ++i) {
        CHECK(all[i].id == ids[ids.size() - 1 - i]);
    }
    CHECK(all[0].files.size() == 1);

    auto failed = ok(store.list(job_status::failed, 100));
    REQUIRE(failed.size() == 2);
    CHECK(failed[0].id == ids[3]);
    CHECK(failed[1].id == ids[1]);

    auto limited = ok(store.list(std::nullopt, 2));
    REQUIRE(limited.size() == 2);
    CHECK(limited[0].id == ids[4]);
    CHECK(limited[1].id == ids[3]);

    // The limit is clamped, never zero or negative.
    CHECK(ok(store.list(std::nullopt, 0)).size() == 1);
    CHECK(ok(store.list(std::nullopt, -5)).size() == 1);
    CHECK(ok(store.list(job_status::completed, 10)).empty());
}

TEST_CASE_TEMPLATE("store: jobs left submitting are found and given up only while submitting", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto old_a = ok(store.create_job(request("hash-a")));
    auto old_b = ok(store.create_job(request("hash-b")));
    auto accepted = submitted_job(store, "task-x");
    const auto cutoff = storage::now_millis() + 1;

    auto stale = ok(store.stale_submitting(cutoff));
    REQUIRE(stale.size() == 2);
    CHECK(stale[0].id == old_a.id);
    CHECK(stale[1].id == old_b.id);
    CHECK(ok(store.stale_submitting(old_a.created_at)).empty());

    // b's webhook arrives (by its token) before the grace period ends.
    auto delivered = success({stem_link("vocals")}, "task-b");
    ok(apply(store, old_b.id, delivered));
    fails_with(store.give_up_submitting(old_b.id, "x"), storage::error::invalid_transition);
    CHECK(ok(store.find(old_b.id)).status == job_status::downloading);
    CHECK(ok(store.find("task-b")).id == old_b.id);

    auto failed = ok(store.give_up_submitting(old_a.id, "stemd stopped while submitting"));
    CHECK(failed.status == job_status::failed);
    CHECK(failed.error == "stemd stopped while submitting");
    fails_with(store.give_up_submitting(accepted.id, "x"), storage::error::invalid_transition);
    fails_with(store.give_up_submitting("jnope", "x"), storage::error::not_found);
    CHECK(ok(store.stale_submitting(cutoff)).empty());
}

TEST_CASE_TEMPLATE("store: open jobs come longest waiting first, final ones never, bounded", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto first = submitted_job(store, "task-first");
    auto gone = ok(store.create_job(request("hash-gone")));
    ok(store.mark_failed(gone.id, "refused"));
    auto second = ok(store.create_job(request("hash-second")));
    auto third = submitted_job(store, "task-third");
    ok(apply(store, third.id, success({stem_link("vocals")}, "task-third")));

    auto open = ok(store.longest_waiting_open_jobs(10));
    REQUIRE(open.size() == 3);
    CHECK(open[0].id == first.id);
    CHECK(open[1].id == second.id);
    CHECK(open[2].id == third.id);
    CHECK(open[2].status == job_status::downloading);
    // The bound keeps the oldest, where list() (newest first) keeps the newest.
    auto one = ok(store.longest_waiting_open_jobs(1));
    REQUIRE(one.size() == 1);
    CHECK(one[0].id == first.id);
    CHECK(ok(store.longest_waiting_open_jobs(0)).size() == 1);
    CHECK(ok(store.longest_waiting_open_jobs(5000)).size() == 3);
}

TEST_CASE_TEMPLATE("store: retry gives a failed job's files another go", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto job = submitted_job(store, "task-1");
    job = ok(apply(store, job.id,
                   success({stem_link("vocals"), stem_link("drums"), stem_link("bass")})));
    const auto vocals = file_named(job, "vocals").id;
    const auto drums = file_named(job, "drums").id;
    const auto bass = file_named(job, "bass").id;
    ok(start(store, bass));
    ok(store.file_done(bass, owner, "/srv/bass.wav", 10, "bb"));
    ok(start(store, drums));
    ok(store.file_retry(drums, owner, "reset", storage::now_millis() + 60'000));
    ok(start(store, vocals));
    job = ok(store.file_failed(vocals, owner, "writing vocals.wav.part: File too large"));
    REQUIRE(job.status == job_status::failed);

    const auto t = storage::now_millis();
    auto retried = ok(store.retry("task-1", t)); // found by task_id too
    CHECK(retried.id == job.id);
    CHECK(retried.status == job_status::downloading);
    CHECK(retried.error.empty());
    for (auto id : {vocals, drums}) {
        const auto& f = *std::find_if(retried.files.begin(), retried.files.end(),
                                      [&](const auto& x) { return x.id == id; });
        CAPTURE(f.name);
        CHECK(f.status == file_status::pending);
        CHECK(f.attempts == 0);
        CHECK(f.error.empty());
        CHECK(f.next_attempt_at == t);
    }
    CHECK(file_named(retried, "bass").status == file_status::done);
    CHECK(file_named(retried, "bass").sha256 == "bb");
    CHECK(ok(store.runnable_files(t, 10)).size() == 2);

    // Only a failed job can be retried.
    const auto why4 = fails_with(store.retry(job.id, t), storage::error::invalid_transition);
    CHECK(why4.find("not failed") != std::string::npos);
    fails_with(store.retry("jnope", t), storage::error::not_found);
}

TEST_CASE_TEMPLATE("store: retry of a failed job without files asks MusicGPT again", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto job = submitted_job(store, "task-1");
    ok(apply(store, job.id, failure("Simulated extraction failure")));
    const auto t = storage::now_millis();
    auto retried = ok(store.retry(job.id, t));
    CHECK(retried.status == job_status::submitted);
    CHECK(retried.error.empty());
    CHECK(retried.next_poll_at == std::optional<storage::millis>(t));
    CHECK(ok(store.jobs_due_for_poll(t, 10)).size() == 1);

    // A job MusicGPT never accepted has nothing to retry.
    auto refused = ok(store.create_job(request()));
    ok(store.mark_failed(refused.id, "HTTP 402"));
    const auto why5 = fails_with(store.retry(refused.id, t), storage::error::invalid_transition);
    CHECK(why5.find("submit the audio again") != std::string::npos);
    CHECK(ok(store.find(refused.id)).status == job_status::failed);
}
