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

TEST_CASE_TEMPLATE("store: webhook delivery ids are remembered for a week", E, STORE_ENGINES) {
    fixture<E> fx;
    const auto day = 24LL * 3600 * 1000;
    const auto t = storage::now_millis();
    {
        auto& store = fx.store();
        CHECK_FALSE(ok(store.seen_delivery("msg_1")));
        CHECK(ok(store.remember_delivery("msg_1", t)));
        CHECK(ok(store.seen_delivery("msg_1")));
        CHECK_FALSE(ok(store.remember_delivery("msg_1", t + 1000)));
        CHECK(ok(store.remember_delivery("msg_2", t + 1000)));
    }
    auto& store = fx.reopen();
    // Survives a restart.
    CHECK_FALSE(ok(store.remember_delivery("msg_1", t + day)));
    // A new delivery eight days later forgets ids older than a week.
    CHECK(ok(store.remember_delivery("msg_3", t + 8 * day)));
    CHECK(ok(store.remember_delivery("msg_1", t + 8 * day)));
    CHECK_FALSE(ok(store.remember_delivery("msg_3", t + 8 * day)));
}
