#include "storage/store.hpp"

#include "store_fixture.hpp"

#include "storage/database.hpp"
#include "storage/pg_connection.hpp"
#include "storage/pg_gauges.hpp"
#include "storage/sqlite_gauges.hpp"

#include <doctest/doctest.h>

namespace storage = stemd::storage;
using namespace stemd::storage::testing;
using storage::job_status;

namespace {

std::int64_t jobs_in(const storage::store_gauges& g, job_status s) {
    for (std::size_t i = 0; i < storage::job_statuses.size(); ++i)
        if (storage::job_statuses[i] == s)
            return g.jobs[i];
    FAIL("no such status");
    return -1;
}

} // namespace

TEST_CASE_TEMPLATE("store: gauges count jobs by status, queued files and the oldest unfinished job",
                   E, STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    auto g = ok(store.gauges());
    for (auto count : g.jobs)
        CHECK(count == 0);
    CHECK(g.queued_files == 0);
    CHECK_FALSE(g.oldest_unfinished.has_value());

    auto first = ok(store.create_job(request())); // submitting
    auto second = submitted_job(store, "task-2");
    second =
        ok(apply(store, second.id, success({stem_link("vocals"), stem_link("drums")}, "task-2")));
    auto third = submitted_job(store, "task-3");
    third = ok(apply(store, third.id, success({stem_link("bass")}, "task-3")));
    auto fourth = submitted_job(store, "task-4");
    fourth = ok(apply(store, fourth.id, success({stem_link("piano")}, "task-4")));
    ok(store.mark_failed(fourth.id, "refused")); // its file stays pending, but the job is final

    // One file of the second job downloading, the other done; the third's
    // file pending; the failed job's files would not count.
    ok(start(store, file_named(second, "vocals").id));
    ok(start(store, file_named(second, "drums").id));
    ok(store.file_done(file_named(second, "drums").id, owner, "/d.mp3", 3, "aa"));

    g = ok(store.gauges());
    CHECK(jobs_in(g, job_status::submitting) == 1);
    CHECK(jobs_in(g, job_status::submitted) == 0);
    CHECK(jobs_in(g, job_status::downloading) == 2);
    CHECK(jobs_in(g, job_status::completed) == 0);
    CHECK(jobs_in(g, job_status::failed) == 1);
    CHECK(g.queued_files == 2);
    REQUIRE(g.oldest_unfinished.has_value());
    CHECK(*g.oldest_unfinished == first.created_at);

    // Finishing and failing the rest: nothing unfinished, nothing queued.
    ok(store.file_done(file_named(second, "vocals").id, owner, "/v.mp3", 3, "bb"));
    ok(start(store, file_named(third, "bass").id));
    ok(store.file_failed(file_named(third, "bass").id, owner, "gone"));
    ok(store.mark_failed(first.id, "given up"));
    g = ok(store.gauges());
    CHECK(jobs_in(g, job_status::completed) == 1);
    CHECK(jobs_in(g, job_status::failed) == 3);
    CHECK(jobs_in(g, job_status::downloading) == 0);
    CHECK(g.queued_files == 0);
    CHECK_FALSE(g.oldest_unfinished.has_value());
}

namespace {

// Many jobs, mostly final, and a file for each, mostly done: what a store
// looks like after a while, so that reading every file would show.
// (SQLite plans by its own rules while no ANALYZE has run: no rows needed.)
void fill(sqlite_engine, const temp_dir&) {}

void fill(pg_engine, const temp_dir& dir) {
    pg_engine::insert_jobs(
        dir, 20'000, [](int i) { return storage::millis{1'000} + i; },
        [](int i) { return i % 100 == 0 ? job_status::downloading : job_status::completed; });
    storage::pg::connection_options o;
    o.conninfo = pg_engine::uri(dir);
    storage::pg::connection c(o);
    c.execute("INSERT INTO files (job_id, name, url, path, status) "
              "SELECT id, 'vocals', 'u', 'p', CASE WHEN status = 'downloading' THEN 'pending' "
              "ELSE 'done' END FROM jobs; ANALYZE");
}

std::string gauges_plan(sqlite_engine, const temp_dir& dir) {
    storage::database db(dir.db_file());
    storage::statement plan(db, "EXPLAIN QUERY PLAN " + storage::sqlite::gauges_sql());
    std::string steps;
    while (plan.step())
        steps += plan.column_text(3) + "\n";
    return steps;
}

std::string gauges_plan(pg_engine, const temp_dir& dir) {
    storage::pg::connection_options o;
    o.conninfo = pg_engine::uri(dir);
    storage::pg::connection c(o);
    const auto plan = c.exec("EXPLAIN " + storage::pg::gauges_sql());
    std::string steps;
    for (int i = 0; i < plan.size(); ++i)
        steps += plan.text(i, 0) + "\n";
    return steps;
}

void check_gauges_plan(sqlite_engine, const std::string& steps) {
    CHECK(steps.find("SCAN f") == std::string::npos);
    CHECK(steps.find("SEARCH f USING INDEX files_runnable") != std::string::npos);
    CHECK(steps.find("SCAN jobs USING COVERING INDEX jobs_by_status") != std::string::npos);
}

// PostgreSQL counts every job by reading the table (a count of all rows
// reads them all either way); the files it must find by an index.
void check_gauges_plan(pg_engine, const std::string& steps) {
    CHECK(steps.find("Seq Scan on files") == std::string::npos);
    CHECK(steps.find(" on files f") != std::string::npos);
}

} // namespace

TEST_CASE_TEMPLATE("store: a scrape's counts find the queued files by index, not by reading every "
                   "file",
                   E, STORE_ENGINES) {
    temp_dir dir;
    const auto store = E::open(dir); // creates the schema
    fill(E{}, dir);
    const auto steps = gauges_plan(E{}, dir);
    INFO(steps);
    check_gauges_plan(E{}, steps);
}
