#include "storage/store.hpp"

#include "store_fixture.hpp"

#include <doctest/doctest.h>

namespace storage = stemd::storage;
using namespace stemd::storage::testing;

TEST_CASE_TEMPLATE("store: activity counts files downloading and jobs finished since a time", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    const auto before = storage::now_millis();
    auto empty = ok(store.activity_since(0));
    CHECK(empty.files_downloading == 0);
    CHECK(empty.jobs_completed == 0);
    CHECK(empty.jobs_failed == 0);

    auto done = submitted_job(store, "task-1");
    done = ok(apply(store, done.id, success({stem_link("vocals", "one")}, "task-1")));
    auto busy = submitted_job(store, "task-2");
    busy = ok(apply(store, busy.id,
                    success({stem_link("vocals", "two"), stem_link("drums", "two")}, "task-2")));
    auto failed = submitted_job(store, "task-3");
    ok(apply(store, failed.id, failure("out of credits")));

    ok(start(store, done.files[0].id));
    ok(start(store, file_named(busy, "drums").id));
    ok(start(store, file_named(busy, "vocals").id));
    auto now = ok(store.activity_since(before));
    CHECK(now.files_downloading == 3);
    CHECK(now.jobs_completed == 0);
    CHECK(now.jobs_failed == 1);

    ok(store.file_done(done.files[0].id, owner, "/v.mp3", 5, "ee"));
    now = ok(store.activity_since(before));
    CHECK(now.files_downloading == 2);
    CHECK(now.jobs_completed == 1);
    CHECK(now.jobs_failed == 1);

    // Jobs that finished before `since` are not counted; files are.
    const auto later = storage::now_millis() + 60'000;
    auto since_later = ok(store.activity_since(later));
    CHECK(since_later.files_downloading == 2);
    CHECK(since_later.jobs_completed == 0);
    CHECK(since_later.jobs_failed == 0);

    // Survives a reopen (it is read from the database, not kept in memory).
    auto& reopened = fx.reopen();
    CHECK(ok(reopened.activity_since(before)).jobs_completed == 1);
}
