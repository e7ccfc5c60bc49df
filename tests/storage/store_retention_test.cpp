#include "storage/store.hpp"

#include "store_fixture.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

namespace storage = stemd::storage;
using namespace stemd::storage::testing;
using storage::file_status;
using storage::job_status;

namespace {

constexpr storage::millis day = 24LL * 3600 * 1000;

// A job whose one file was downloaded: completed.
storage::job_record completed_job(storage::store& store, const std::string& task) {
    auto job = submitted_job(store, task);
    job = ok(apply(store, job.id, success({stem_link("vocals")}, task)));
    const auto file = ok(start(store, job.files.front().id));
    const auto path = "/out/" + task + "/vocals.mp3";
    return ok(store.file_done(file.id, owner, path, 1234, "ab"));
}

std::vector<std::string> ids_of(const std::vector<storage::job_record>& jobs) {
    std::vector<std::string> ids;
    for (const auto& j : jobs)
        ids.push_back(j.id);
    return ids;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

} // namespace

TEST_CASE_TEMPLATE("store: pruning deletes final jobs older than the cutoff, and nothing else", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    const auto done = completed_job(store, "task-done");
    auto failed = ok(store.create_job(request()));
    ok(store.mark_failed(failed.id, "MusicGPT refused it"));
    auto downloading = submitted_job(store, "task-busy");
    downloading = ok(apply(store, downloading.id, success({stem_link("drums")}, "task-busy")));
    const auto submitting = ok(store.create_job(request()));
    const auto t = storage::now_millis();
    const auto later = t + day;
    ok(store.append_event({done.id, t, "completed", "", "all files"}));
    ok(store.append_event({failed.id, t, "failed", "", "refused"}));
    ok(store.append_event({downloading.id, t, "webhook", "", "links"}));
    CHECK(ok(store.events(done.id, 100)).size() == 1);

    // Nothing changed before the cutoff: nothing goes.
    CHECK(ok(store.prunable_jobs(done.updated_at, "", 100)).empty());
    CHECK(ok(store.prune_final_jobs(done.updated_at, t, 100)).jobs.empty());

    // Read only: both final jobs are listed, with their files, and stay.
    const auto listed = ok(store.prunable_jobs(later, "", 100));
    CHECK(ids_of(listed) == sorted({done.id, failed.id}));
    const auto& listed_done = listed[ids_of(listed)[0] == done.id ? 0 : 1];
    REQUIRE(listed_done.files.size() == 1);
    CHECK(listed_done.files[0].path == "/out/task-done/vocals.mp3");
    CHECK(listed_done.files[0].bytes == 1234);
    CHECK(ok(store.find(done.id)).status == job_status::completed);

    // One per batch when asked so, then none left.
    const auto first = ok(store.prune_final_jobs(later, t, 1));
    const auto second = ok(store.prune_final_jobs(later, t, 1));
    REQUIRE(first.jobs.size() == 1);
    REQUIRE(second.jobs.size() == 1);
    CHECK(sorted({first.jobs[0].id, second.jobs[0].id}) == sorted({done.id, failed.id}));
    CHECK(ok(store.prune_final_jobs(later, t, 100)).jobs.empty());
    fails_with(store.find(done.id), storage::error::not_found);
    fails_with(store.find("task-done"), storage::error::not_found);
    fails_with(store.find(failed.id), storage::error::not_found);
    // Their history went with them; the events table is read directly.
    CHECK(ok(store.events(done.id, 100)).empty());
    CHECK(ok(store.events(failed.id, 100)).empty());
    CHECK(ok(store.events(downloading.id, 100)).size() == 1);

    // Jobs still under way are never touched, however old the cutoff.
    auto& reopened = fx.reopen();
    CHECK(ok(reopened.prune_final_jobs(later + 365 * day, t, 100)).jobs.empty());
    CHECK(ok(reopened.find(downloading.id)).status == job_status::downloading);
    CHECK(ok(reopened.find(downloading.id)).files.size() == 1);
    CHECK(ok(reopened.find(submitting.id)).status == job_status::submitting);
}

TEST_CASE_TEMPLATE("store: prunable jobs are paged by id", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    std::vector<std::string> made;
    for (int i = 0; i < 5; ++i) {
        auto job = ok(store.create_job(request()));
        ok(store.mark_failed(job.id, "refused"));
        made.push_back(job.id);
    }
    const auto later = storage::now_millis() + day;
    std::vector<std::string> seen;
    std::string after;
    for (int page = 0; page < 10; ++page) {
        auto jobs = ok(store.prunable_jobs(later, after, 2));
        if (jobs.empty())
            break;
        CHECK(jobs.size() <= 2);
        for (const auto& j : jobs)
            seen.push_back(j.id);
        after = jobs.back().id;
    }
    CHECK(seen == sorted(made));
    CHECK(ok(store.prunable_jobs(later, "", 100)).size() == 5);
}

TEST_CASE_TEMPLATE("store: a final job whose file is still claimed is kept until the claim ends", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto job = submitted_job(store, "task-1");
    job = ok(apply(store, job.id, success({stem_link("vocals"), stem_link("drums")})));
    const auto vocals = ok(start(store, file_named(job, "vocals").id));
    const auto drums = ok(start(store, file_named(job, "drums").id));
    CHECK(ok(store.file_failed(drums.id, owner, "HTTP 404")).status == job_status::failed);

    const auto t = storage::now_millis();
    CHECK(ok(store.prunable_jobs(t + day, "", 100)).empty());
    CHECK(ok(store.prune_final_jobs(t + day, t, 100)).jobs.empty());

    ok(store.file_retry(vocals.id, owner, "connection reset", t));
    const auto pruned = ok(store.prune_final_jobs(t + day, t, 100));
    REQUIRE(pruned.jobs.size() == 1);
    CHECK(pruned.jobs[0].id == job.id);
    CHECK(pruned.jobs[0].files.size() == 2);
}

TEST_CASE_TEMPLATE("store: pruning forgets webhook ids older than the replay guard needs", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    const auto t = storage::now_millis();
    CHECK(ok(store.remember_delivery("msg_old", t)));
    CHECK(ok(store.remember_delivery("msg_new", t + 7 * day)));
    const auto pruned = ok(store.prune_final_jobs(0, t + 8 * day, 100));
    CHECK(pruned.deliveries == 1);
    CHECK_FALSE(ok(store.seen_delivery("msg_old")));
    CHECK(ok(store.seen_delivery("msg_new")));
}

TEST_CASE_TEMPLATE("store: compaction gives the pages of pruned jobs back", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto big = request();
    big.audio_url = "https://example.com/" + std::string(3000, 'a');
    for (int i = 0; i < 200; ++i) {
        auto job = ok(store.create_job(big));
        ok(store.mark_failed(job.id, "refused"));
    }
    const auto t = storage::now_millis();
    int removed = 0;
    for (int batch = 0; batch < 10; ++batch) {
        const auto pruned = ok(store.prune_final_jobs(t + day, t, 100));
        if (pruned.jobs.empty())
            break;
        removed += static_cast<int>(pruned.jobs.size());
    }
    CHECK(removed == 200);
    const auto c = ok(store.compact(100'000));
    INFO("pages " << c.pages_before << " -> " << c.pages_after << ", free " << c.free_before
                  << " -> " << c.free_after);
    CHECK(c.page_size > 0);
    if constexpr (std::is_same_v<E, pg_engine>) {
        // PostgreSQL's autovacuum gives the space back on its own schedule;
        // compact() only measures the store's tables and says it freed
        // nothing (so the pruner reports 0 bytes, which is true of it).
        CHECK(c.page_size == 8192);
        CHECK(c.pages_before > 0);
        CHECK(c.pages_after == c.pages_before);
        CHECK(c.free_before == 0);
        CHECK(c.free_after == 0);
        // Outside any transaction: the store stays usable, and pruning goes on.
        CHECK(ok(store.compact(10)).pages_before == c.pages_before);
        ok(store.create_job(request()));
        return;
    }
    CHECK(c.free_before > 100);
    CHECK(c.free_after == 0);
    CHECK(c.pages_after <= c.pages_before - c.free_before);
    // Bounded: a small step leaves the rest for the next one.
    CHECK(ok(store.compact(10)).free_before == 0);
}
