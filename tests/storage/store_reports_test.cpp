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

TEST_CASE_TEMPLATE("store: a job goes from submitting to completed", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto job = ok(store.create_job(request("hash-1")));

    ok(store.mark_submitted(job.id, "task-1", "conv-1", 147.0, 5.55, "IN_QUEUE"));
    job = ok(store.find(job.id));
    CHECK(job.status == job_status::submitted);
    CHECK(job.eta == std::optional(147.0));
    CHECK(job.credit_estimate == std::optional(5.55));
    CHECK(job.upstream_status == "IN_QUEUE");

    job = ok(apply(store, job.id, success({stem_link("vocals"), stem_link("vocals", "wav")})));
    CHECK(job.status == job_status::downloading);
    CHECK(job.upstream_status == "COMPLETED");
    CHECK(job.conversion_cost == std::optional(0.157));
    CHECK(job.conversion_duration == std::optional(170.69));
    REQUIRE(job.files.size() == 2);
    CHECK(job.files[0].subdir.empty());
    CHECK(job.files[1].subdir == "wav");

    auto first = ok(start(store, job.files[0].id));
    CHECK(first.status == file_status::downloading);
    CHECK(first.attempts == 1);
    auto second = ok(start(store, job.files[1].id));

    job = ok(store.file_done(first.id, owner, "/final/vocals.mp3", 1234, "ab12"));
    CHECK(job.status == job_status::downloading);
    CHECK(job.files[0].status == file_status::done);
    CHECK(job.files[0].path == "/final/vocals.mp3");
    CHECK(job.files[0].bytes == 1234);
    CHECK(job.files[0].sha256 == "ab12");

    job = ok(store.file_done(second.id, owner, "/final/wav/vocals.mp3", 99, "cd34"));
    CHECK(job.status == job_status::completed);
    CHECK(job.error.empty());
    CHECK(job.updated_at >= job.created_at);
    CHECK(ok(store.runnable_files(storage::now_millis() + 1000, 10)).empty());
    CHECK_FALSE(ok(store.next_wakeup()).has_value());
}

TEST_CASE_TEMPLATE("store: a repeated success delivery neither duplicates nor resets files", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto job = submitted_job(store, "task-1");
    job = ok(apply(store, job.id, success({stem_link("vocals"), stem_link("drums")})));
    const auto vocals = file_named(job, "vocals");
    ok(start(store, vocals.id));
    ok(store.file_done(vocals.id, owner, "/final/vocals.mp3", 10, "ff00"));

    auto again = success({stem_link("vocals", "", "https://cdn.example.com/vocals?sig=2"),
                          stem_link("drums", "", "https://cdn.example.com/drums?sig=2")});
    job = ok(apply(store, job.id, again));
    REQUIRE(job.files.size() == 2);
    CHECK(job.status == job_status::downloading);

    const auto& done = file_named(job, "vocals");
    CHECK(done.id == vocals.id);
    CHECK(done.status == file_status::done);
    CHECK(done.url == "https://cdn.example.com/vocals?sig=1");
    CHECK(done.path == "/final/vocals.mp3");
    CHECK(done.sha256 == "ff00");
    // The unfinished file takes the fresher link.
    CHECK(file_named(job, "drums").url == "https://cdn.example.com/drums?sig=2");
    CHECK(file_named(job, "drums").status == file_status::pending);
}

TEST_CASE_TEMPLATE("store: a success for a job whose files are all done completes it", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto job = submitted_job(store, "task-1");
    job = ok(apply(store, job.id, success({stem_link("vocals")})));
    ok(start(store, job.files[0].id));
    job = ok(store.file_done(job.files[0].id, owner, "/v.mp3", 1, "aa"));
    REQUIRE(job.status == job_status::completed);

    // A completed job is left as it is, whatever arrives.
    job = ok(apply(store, job.id, success({stem_link("vocals"), stem_link("bass")})));
    CHECK(job.status == job_status::completed);
    CHECK(job.files.size() == 1);
    job = ok(apply(store, job.id, failure("late failure")));
    CHECK(job.status == job_status::completed);
    CHECK(job.error.empty());
}

TEST_CASE_TEMPLATE("store: a failure report fails the job with its message", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();

    auto job = submitted_job(store, "task-1");
    job = ok(apply(store, job.id, failure("Audio too long")));
    CHECK(job.status == job_status::failed);
    CHECK(job.error == "Audio too long");
    CHECK(job.upstream_status == "FAILED");

    // A later pending report does not bring an upstream failure back.
    job = ok(apply(store, job.id, pending("IN_QUEUE")));
    CHECK(job.status == job_status::failed);
    CHECK(job.error == "Audio too long");

    auto other = submitted_job(store, "task-2");
    other = ok(apply(store, other.id, failure("")));
    CHECK(other.status == job_status::failed);
    CHECK(other.error == "MusicGPT reported the job failed");
}

TEST_CASE_TEMPLATE("store: a pending report records the upstream status only", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto job = submitted_job(store, "task-1");
    auto report = pending("PROCESSING");
    report.conversion_cost = 1.25;
    job = ok(apply(store, job.id, report));
    CHECK(job.status == job_status::submitted);
    CHECK(job.upstream_status == "PROCESSING");
    CHECK(job.conversion_cost == std::optional(1.25));
    CHECK(job.files.empty());

    // An empty upstream status does not erase the one known.
    job = ok(apply(store, job.id, pending("")));
    CHECK(job.upstream_status == "PROCESSING");
}

TEST_CASE_TEMPLATE("store: a success without links fails the job", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto job = submitted_job(store, "task-1");
    job = ok(apply(store, job.id, success({})));
    CHECK(job.status == job_status::failed);
    CHECK(job.error == "MusicGPT reported success but sent no stem links");
    CHECK(job.files.empty());

    // A later delivery with links revives it.
    job = ok(apply(store, job.id, success({stem_link("vocals")})));
    CHECK(job.status == job_status::downloading);
    CHECK(job.error.empty());
}
