#include "storage/store.hpp"

#include "store_fixture.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace storage = stemd::storage;
using namespace stemd::storage::testing;
using storage::job_status;

namespace {

storage::new_event event(const std::string& job_id, storage::millis at, std::string kind,
                         std::string file = "", std::string detail = "") {
    return {job_id, at, std::move(kind), std::move(file), std::move(detail)};
}

} // namespace

TEST_CASE_TEMPLATE("store: a job's events come back oldest first, and survive a restart", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    std::string id;
    {
        auto& store = fx.store();
        id = submitted_job(store, "task-ev").id;
        auto other = submitted_job(store, "task-other").id;
        ok(store.append_event(event(id, 1000, "submitted", "", "task task-ev")));
        ok(store.append_event(event(other, 1500, "submitted")));
        ok(store.append_event(event(id, 2000, "download_retry", "vocals", "HTTP 503")));
        ok(store.append_event(event(id, 2000, "download_done", "vocals", "65536 bytes")));
    }
    auto& store = fx.reopen();
    auto got = ok(store.events(id, 100));
    REQUIRE(got.size() == 3);
    CHECK(got[0].kind == "submitted");
    CHECK(got[0].at == 1000);
    CHECK(got[0].detail == "task task-ev");
    CHECK(got[1].kind == "download_retry");
    CHECK(got[1].file == "vocals");
    CHECK(got[1].detail == "HTTP 503");
    // Same time: still in the order appended.
    CHECK(got[2].kind == "download_done");
    CHECK(got[1].id < got[2].id);
    CHECK(got[2].job_id == id);
    // A limit keeps the newest, still oldest first.
    auto last_two = ok(store.events(id, 2));
    REQUIRE(last_two.size() == 2);
    CHECK(last_two[0].kind == "download_retry");
    CHECK(last_two[1].kind == "download_done");
    CHECK(ok(store.events("no-such-job", 10)).empty());
}

TEST_CASE_TEMPLATE("store: an event for a job that does not exist is not_found", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    const auto why =
        fails_with(store.append_event(event("nope", 1, "submitted")), storage::error::not_found);
    CHECK(why.find("nope") != std::string::npos);
}

TEST_CASE_TEMPLATE("store: only the newest events of a job are kept", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    const auto id = submitted_job(store, "task-many").id;
    const auto other = submitted_job(store, "task-few").id;
    ok(store.append_event(event(other, 1, "submitted")));
    const int extra = 7;
    for (int i = 0; i < storage::max_events_per_job + extra; ++i)
        ok(store.append_event(event(id, i, "lookup", "", std::to_string(i))));
    auto got = ok(store.events(id, storage::max_events_per_job + 100));
    REQUIRE(got.size() == static_cast<std::size_t>(storage::max_events_per_job));
    CHECK(got.front().detail == std::to_string(extra));
    CHECK(got.back().detail == std::to_string(storage::max_events_per_job + extra - 1));
    // Another job's history is not pruned with it.
    CHECK(ok(store.events(other, 10)).size() == 1);
}

TEST_CASE_TEMPLATE("store: list keeps jobs created since a time", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    const auto a = ok(store.create_job(request()));
    const auto b = ok(store.create_job(request()));
    CHECK(ok(store.list(std::nullopt, 10, a.created_at)).size() == 2);
    auto newer = ok(store.list(std::nullopt, 10, b.created_at + 1));
    CHECK(newer.empty());
    auto since = ok(store.list(job_status::submitting, 10, b.created_at));
    REQUIRE_FALSE(since.empty());
    CHECK(since.front().id == b.id);
    CHECK(ok(store.list(job_status::failed, 10, a.created_at)).empty());
}

TEST_CASE_TEMPLATE("store: events after an id, across jobs or for one, oldest first", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    std::string a;
    std::string b;
    std::int64_t first = 0;
    {
        auto& store = fx.store();
        CHECK(ok(store.newest_event_id()) == 0);
        a = submitted_job(store, "task-a").id;
        b = submitted_job(store, "task-b").id;
        first = ok(store.append_event(event(a, 10, "created")));
        const auto second = ok(store.append_event(event(b, 20, "created")));
        CHECK(second > first);
        ok(store.append_event(event(a, 30, "submitted")));
        ok(store.append_event(event(b, 40, "completed")));
    }
    auto& store = fx.reopen();
    const auto all = ok(store.events_after(0, "", 100));
    REQUIRE(all.size() == 4);
    CHECK(all[0].id == first);
    for (std::size_t i = 1; i < all.size(); ++i)
        CHECK(all[i - 1].id < all[i].id);
    CHECK(all[1].job_id == b);
    CHECK(all[3].kind == "completed");
    CHECK(ok(store.newest_event_id()) == all[3].id);

    // Strictly after the id given.
    const auto later = ok(store.events_after(all[1].id, "", 100));
    REQUIRE(later.size() == 2);
    CHECK(later[0].id == all[2].id);
    CHECK(ok(store.events_after(all[3].id, "", 100)).empty());

    // One job only.
    const auto of_a = ok(store.events_after(0, a, 100));
    REQUIRE(of_a.size() == 2);
    CHECK(of_a[0].kind == "created");
    CHECK(of_a[1].kind == "submitted");
    CHECK(ok(store.events_after(of_a[0].id, a, 100)).size() == 1);

    // A limit keeps the oldest of those after the id (a page), clamped.
    const auto page = ok(store.events_after(0, "", 2));
    REQUIRE(page.size() == 2);
    CHECK(page[1].id == all[1].id);
    CHECK(ok(store.events_after(0, "", 0)).size() == 1);
}

// Several instances append at once while GET /v1/events follows with
// events_after: an event whose id is below one the follower has already
// read must never show up later, or the follower's cursor skips it.
TEST_CASE_TEMPLATE("store: events appended by writers at once reach a follower in id order, none "
                   "skipped",
                   E, STORE_ENGINES) {
    fixture<E> fx;
    auto& follower = fx.store();
    constexpr int writers = 3;
    constexpr int per_writer = 200; // under max_events_per_job: nothing pruned
    std::vector<std::string> jobs;
    for (int w = 0; w < writers; ++w)
        jobs.push_back(submitted_job(follower, "task-race-" + std::to_string(w)).id);

    std::atomic<int> failures{0};
    std::atomic<int> running{writers};
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w) {
        threads.emplace_back([&, w] {
            auto store = E::open(fx.dir()); // its own connection, as another instance
            for (int i = 0; i < per_writer; ++i)
                if (!store->append_event(event(jobs[static_cast<std::size_t>(w)], i, "tick")))
                    ++failures;
            --running;
        });
    }
    std::set<std::int64_t> seen;
    std::int64_t cursor = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    bool last_pass = false;
    while (std::chrono::steady_clock::now() < deadline) {
        // Once every writer is done, one more read picks up what is left.
        last_pass = running.load() == 0;
        const auto got = follower.events_after(cursor, "", storage::max_events_after);
        if (!got) {
            ++failures;
            break;
        }
        for (const auto& e : *got) {
            seen.insert(e.id);
            cursor = e.id;
        }
        if (last_pass && got->empty())
            break;
    }
    for (auto& t : threads)
        t.join();
    CHECK(failures.load() == 0);
    CHECK(last_pass);
    // Everything the writers stored, counted directly, was seen on the way.
    std::size_t stored = 0;
    for (const auto& id : jobs)
        stored += ok(follower.events(id, storage::max_events_per_job)).size();
    CHECK(stored == std::size_t{writers * per_writer});
    CHECK(seen.size() == stored);
}
