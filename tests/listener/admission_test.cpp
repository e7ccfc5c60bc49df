#include "listener/admission.hpp"

#include <doctest/doctest.h>

#include <sys/resource.h>

using namespace stemd::listener;
using namespace std::chrono_literals;

TEST_CASE("admission: a cap in total and per client address") {
    admission a(3, 2);
    CHECK(a.admit("10.0.0.1"));
    CHECK(a.admit("10.0.0.1"));
    CHECK_FALSE(a.admit("10.0.0.1")); // its own cap
    CHECK(a.open_from("10.0.0.1") == 2);
    CHECK(a.admit("10.0.0.2"));
    CHECK_FALSE(a.admit("10.0.0.3")); // the total
    CHECK(a.open() == 3);
    CHECK(a.open_from("10.0.0.3") == 0);

    a.release("10.0.0.1");
    CHECK(a.open() == 2);
    CHECK(a.admit("10.0.0.3"));
    CHECK_FALSE(a.admit("10.0.0.1"));
    a.release("10.0.0.3");
    a.release("10.0.0.3"); // not counted any more: no effect
    CHECK(a.open() == 2);
}

TEST_CASE("admission: the accept back-off doubles to a bound and logs once per episode") {
    accept_backoff b;
    auto w = b.failed();
    CHECK(w.delay == 100ms);
    CHECK(w.starts_episode);
    CHECK(b.failed().delay == 200ms);
    CHECK_FALSE(b.failed().starts_episode);
    for (int i = 0; i < 10; ++i)
        b.failed();
    CHECK(b.failed().delay == accept_backoff::longest);
    b.succeeded();
    w = b.failed();
    CHECK(w.delay == 100ms);
    CHECK(w.starts_episode);
}

TEST_CASE("admission: max_connections is kept below the open-file limit") {
    CHECK(fit_connections(1024, 2, 65536) == 1024);
    // 1024 descriptors: 128 kept aside, 448 for each of two listeners.
    CHECK(fit_connections(1024, 2, 1024) == 448);
    CHECK(fit_connections(100, 1, 1024) == 100);
    CHECK(fit_connections(100, 2, 64) == 1);
}

TEST_CASE("admission: the soft open-file limit is raised to the hard one") {
    rlimit before{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &before) == 0);
    if (before.rlim_max > 256) {
        rlimit lowered{256, before.rlim_max};
        REQUIRE(::setrlimit(RLIMIT_NOFILE, &lowered) == 0);
    }
    const auto now = raise_file_limit();
    rlimit after{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &after) == 0);
    CHECK(after.rlim_cur == after.rlim_max);
    CHECK(after.rlim_max == before.rlim_max);
    if (after.rlim_cur != RLIM_INFINITY)
        CHECK(now == after.rlim_cur);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &before) == 0);
}
