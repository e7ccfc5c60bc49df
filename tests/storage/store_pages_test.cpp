#include "storage/store.hpp"

#include "store_fixture.hpp"

#include "storage/database.hpp"
#include "storage/pg_connection.hpp"
#include "storage/pg_jobs.hpp"
#include "storage/sqlite_jobs.hpp"

#include <doctest/doctest.h>

#include <limits>
#include <set>
#include <string>

namespace storage = stemd::storage;
using namespace stemd::storage::testing;
using storage::job_status;

namespace {

// Walks every page of the list for `q` (its `before` ignored); the ids in
// the order served. Bounded: at most `max_pages` pages.
std::vector<std::string> walk(storage::store& store, storage::page_query q, int max_pages) {
    std::vector<std::string> ids;
    q.before.reset();
    for (int pages = 0; pages < max_pages; ++pages) {
        auto page = ok(store.list_page(q));
        CHECK(static_cast<int>(page.jobs.size()) <= q.limit);
        for (const auto& j : page.jobs)
            ids.push_back(j.id);
        if (!page.next)
            return ids;
        // The cursor is the page's last job.
        REQUIRE_FALSE(page.jobs.empty());
        CHECK(page.next->created_at == page.jobs.back().created_at);
        q.before = page.next;
    }
    FAIL("more than " << max_pages << " pages");
    return ids;
}

bool newest_first(storage::store& store, const std::vector<std::string>& ids) {
    storage::millis previous = std::numeric_limits<storage::millis>::max();
    for (const auto& id : ids) {
        const auto at = ok(store.find(id)).created_at;
        if (at > previous)
            return false;
        previous = at;
    }
    return true;
}

} // namespace

TEST_CASE_TEMPLATE("store: list_page serves newest first and says where the next page starts", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    std::vector<std::string> made;
    for (int i = 0; i < 5; ++i)
        made.push_back(ok(store.create_job(request())).id);
    ok(store.mark_failed(made[1], "no"));

    auto first = ok(store.list_page({.limit = 2}));
    REQUIRE(first.jobs.size() == 2);
    CHECK(first.jobs[0].id == made[4]);
    CHECK(first.jobs[1].id == made[3]);
    REQUIRE(first.next.has_value());
    auto second = ok(store.list_page({.limit = 2, .before = first.next}));
    REQUIRE(second.jobs.size() == 2);
    CHECK(second.jobs[0].id == made[2]);
    auto last = ok(store.list_page({.limit = 2, .before = second.next}));
    REQUIRE(last.jobs.size() == 1);
    CHECK(last.jobs[0].id == made[0]);
    CHECK_FALSE(last.next.has_value());
    // Exactly a page left: no next, and no empty page after it.
    CHECK_FALSE(ok(store.list_page({.limit = 5})).next.has_value());

    auto failed = ok(store.list_page({.status = job_status::failed, .limit = 10}));
    REQUIRE(failed.jobs.size() == 1);
    CHECK(failed.jobs[0].id == made[1]);
    CHECK(ok(store.list_page({.status = job_status::completed})).jobs.empty());
    // Jobs come with their files, as list does.
    auto job = submitted_job(store, "task-9");
    ok(apply(store, job.id, success({stem_link("vocals")}, "task-9")));
    CHECK(ok(store.list_page({.limit = 1})).jobs[0].files.size() == 1);
    CHECK(ok(store.list_page({.created_since = std::numeric_limits<storage::millis>::max()}))
              .jobs.empty());
}

TEST_CASE_TEMPLATE("store: 100,000 jobs paged through, none missed or repeated where created_at "
                   "ties across a page boundary",
                   E, STORE_ENGINES) {
    fixture<E> fx;
    constexpr int count = 100'000;
    // Seven jobs share each created_at, so pages of 50 (and 1000) often end
    // inside a run of equal times; every third job is completed.
    E::insert_jobs(
        fx.dir(), count, [](int i) { return storage::millis{1'700'000'000'000} + i / 7; },
        [](int i) { return i % 3 == 0 ? job_status::completed : job_status::failed; });
    auto& store = fx.store();

    for (int limit : {50, 1000}) {
        CAPTURE(limit);
        const auto ids = walk(store, {.limit = limit}, count / limit + 2);
        CHECK(ids.size() == count);
        CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == count);
        CHECK(ids.front() == "bulk-99999");
        CHECK(ids.back() == "bulk-0");
    }
    const auto completed = walk(store, {.status = job_status::completed, .limit = 997}, 40);
    CHECK(completed.size() == (count + 2) / 3);
    CHECK(std::set<std::string>(completed.begin(), completed.end()).size() == completed.size());
    for (const auto& id : completed)
        if (std::stoi(id.substr(5)) % 3 != 0)
            FAIL("not completed: " << id);
    CHECK(newest_first(store, {completed.begin(), completed.begin() + 200}));
}

namespace {

// SQLite's plan for the page statement, one step a line.
std::string page_plan(sqlite_engine, const temp_dir& dir, bool by_status) {
    storage::database db(dir.db_file());
    storage::statement plan(db, "EXPLAIN QUERY PLAN " + storage::sqlite::page_sql(by_status));
    std::string steps;
    while (plan.step())
        steps += plan.column_text(3) + "\n";
    return steps;
}

// PostgreSQL's, with the first page's parameters, over enough analysed
// rows that the planner weighs an index against a sort for real.
std::string page_plan(pg_engine, const temp_dir& dir, bool by_status) {
    storage::pg::connection_options o;
    o.conninfo = pg_engine::uri(dir);
    storage::pg::connection c(o);
    c.execute("ANALYZE jobs");
    storage::pg::params p;
    p.add(51).add(std::numeric_limits<storage::millis>::min());
    p.add(std::numeric_limits<storage::millis>::max())
        .add(std::numeric_limits<std::int64_t>::max());
    if (by_status)
        p.add("completed");
    const auto plan = c.exec("EXPLAIN " + storage::pg::page_sql(by_status), p);
    std::string steps;
    for (int i = 0; i < plan.size(); ++i)
        steps += plan.text(i, 0) + "\n";
    return steps;
}

void check_page_plan(sqlite_engine, const std::string& steps, bool by_status) {
    CHECK(steps.find("TEMP B-TREE") == std::string::npos);
    CHECK(steps.find(by_status ? "USING INDEX jobs_by_status" : "USING INDEX jobs_by_created") !=
          std::string::npos);
    CHECK(steps.find("SCAN jobs\n") == std::string::npos);
}

void check_page_plan(pg_engine, const std::string& steps, bool by_status) {
    CHECK(steps.find("Sort") == std::string::npos);
    CHECK(steps.find(by_status ? "Index Scan Backward using jobs_by_status"
                               : "Index Scan Backward using jobs_by_created") != std::string::npos);
    CHECK(steps.find("Seq Scan") == std::string::npos);
}

} // namespace

TEST_CASE_TEMPLATE("store: a page of jobs is read by index, with no sort of its own", E,
                   STORE_ENGINES) {
    temp_dir dir;
    const auto store = E::open(dir); // creates the schema
    E::insert_jobs(
        dir, 20'000, [](int i) { return storage::millis{1'700'000'000'000} + i / 7; },
        [](int i) { return i % 3 == 0 ? job_status::completed : job_status::failed; });
    for (bool by_status : {false, true}) {
        CAPTURE(by_status);
        const auto steps = page_plan(E{}, dir, by_status);
        INFO(steps);
        check_page_plan(E{}, steps, by_status);
    }
}
