#include "storage/store.hpp"

#include "store_fixture.hpp"

#include <doctest/doctest.h>

#include <string>

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
