#include "jobs/event_hub.hpp"

#include <doctest/doctest.h>

using stemd::jobs::event_hub;
using stemd::jobs::hub_event;

namespace {

hub_event event(std::int64_t id, const std::string& job) {
    hub_event e;
    e.event.id = id;
    e.event.job_id = job;
    e.event.kind = "webhook";
    return e;
}

} // namespace

TEST_CASE("event hub: a reader gets this process's events queued, in order, for its job only") {
    event_hub h;
    int woken = 0;
    auto all = h.subscribe("", [&] { ++woken; });
    auto one = h.subscribe("j1", nullptr);
    h.publish(event(7, "j1"));
    h.publish(event(8, "j2"));
    REQUIRE(all->queue.size() == 2);
    CHECK(all->queue[0].event.id == 7);
    CHECK(all->queue[1].event.id == 8);
    CHECK(one->queue.size() == 1);
    CHECK_FALSE(all->resync);
    CHECK(woken == 2);
}

TEST_CASE("event hub: on a shared store a published event sends readers to the store instead") {
    // Another process's event 7 may be committed and not yet tailed when
    // this process publishes 8: a reader sent 8 from its queue would never
    // read 7 (it reads the store after its last id).
    event_hub h;
    int woken = 0;
    auto r = h.subscribe("", [&] { ++woken; });
    h.read_store_always(true);
    h.publish(event(8, "j1"));
    CHECK(r->queue.empty());
    CHECK(r->resync);
    CHECK(woken == 1);
    h.read_store_always(false);
    r->resync = false;
    h.publish(event(9, "j1"));
    CHECK(r->queue.size() == 1);
}

TEST_CASE("event hub: a full queue is dropped and its reader sent to the store") {
    event_hub h(4, 2);
    auto r = h.subscribe("", nullptr);
    for (std::int64_t id = 1; id <= 3; ++id)
        h.publish(event(id, "j1"));
    CHECK(r->queue.empty());
    CHECK(r->resync);
}
