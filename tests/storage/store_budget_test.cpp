#include "storage/store.hpp"

#include "store_fixture.hpp"

#include <doctest/doctest.h>

#include <string>

namespace storage = stemd::storage;
using namespace stemd::storage::testing;

namespace {

// A bucket of 3 tokens that gains 2 a second: one every 500 ms.
constexpr double capacity = 3;
constexpr double per_second = 2;

storage::budget_take take(storage::store& s, storage::millis at, std::string_view name = "byId") {
    return ok(s.take_budget(name, at, capacity, per_second));
}

} // namespace

TEST_CASE_TEMPLATE("store: a budget starts full and refuses, with when, once it is spent", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    const auto t = storage::now_millis();
    for (int i = 0; i < 3; ++i) {
        INFO("take " << i);
        CHECK(take(store, t).granted);
    }
    const auto refused = take(store, t);
    CHECK_FALSE(refused.granted);
    CHECK(refused.retry_at == t + 500);
    // A refusal takes nothing: asking again at once gives the same answer.
    CHECK(take(store, t + 100).retry_at == t + 500);
    // Another name is another bucket.
    CHECK(take(store, t, "other").granted);
}

TEST_CASE_TEMPLATE("store: a budget refills at its rate, never above its capacity", E,
                   STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    const auto t = storage::now_millis();
    for (int i = 0; i < 3; ++i)
        CHECK(take(store, t).granted);
    CHECK_FALSE(take(store, t + 499).granted);
    CHECK(take(store, t + 500).granted);
    const auto next = take(store, t + 500);
    CHECK_FALSE(next.granted);
    CHECK(next.retry_at == t + 1000);
    // A long quiet time fills it up to the capacity, not beyond.
    const auto later = t + 3'600'000;
    for (int i = 0; i < 3; ++i) {
        INFO("take " << i << " after an hour");
        CHECK(take(store, later).granted);
    }
    CHECK_FALSE(take(store, later).granted);
    // An earlier clock (another process's) never makes tokens.
    CHECK_FALSE(take(store, later - 10'000).granted);
}

TEST_CASE_TEMPLATE("store: a paused budget refuses until the pause ends, and a pause only extends",
                   E, STORE_ENGINES) {
    fixture<E> fx;
    auto& store = fx.store();
    const auto t = storage::now_millis();
    // Paused before anyone drew: the bucket is full when the pause ends.
    ok(store.pause_budget("byId", t + 2'000));
    auto refused = take(store, t);
    CHECK_FALSE(refused.granted);
    CHECK(refused.retry_at == t + 2'000);
    // An earlier pause (a shorter Retry-After) does not shorten it.
    ok(store.pause_budget("byId", t + 1'000));
    CHECK_FALSE(take(store, t + 1'500).granted);
    CHECK(take(store, t + 1'500).retry_at == t + 2'000);
    // A later one extends it.
    ok(store.pause_budget("byId", t + 3'000));
    CHECK(take(store, t + 2'500).retry_at == t + 3'000);
    for (int i = 0; i < 3; ++i) {
        INFO("take " << i << " after the pause");
        CHECK(take(store, t + 3'000).granted);
    }
    CHECK_FALSE(take(store, t + 3'000).granted);
    // Pausing a bucket in use keeps its tokens; the pause ends, they are there.
    ok(store.pause_budget("other", t));
    CHECK(take(store, t, "other").granted);
    ok(store.pause_budget("other", t + 100));
    CHECK(take(store, t + 50, "other").retry_at == t + 100);
    CHECK(take(store, t + 100, "other").granted);
}

TEST_CASE_TEMPLATE("store: two handles on one database draw from one budget", E, STORE_ENGINES) {
    fixture<E> fx;
    auto& first = fx.store();
    auto second = E::open(fx.dir());
    const auto t = storage::now_millis();
    CHECK(take(first, t).granted);
    CHECK(take(*second, t).granted);
    CHECK(take(first, t).granted);
    const auto refused = take(*second, t);
    CHECK_FALSE(refused.granted);
    CHECK(refused.retry_at == t + 500);
    // A pause one of them records holds for the other.
    ok(second->pause_budget("byId", t + 5'000));
    CHECK(take(first, t + 4'000).retry_at == t + 5'000);
    CHECK(take(first, t + 5'000).granted);
}
