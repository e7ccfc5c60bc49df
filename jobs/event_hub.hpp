#pragma once

// The job events of this process as they are appended, for the live
// readers of GET /v1/events. The durable log is the store's events table
// (its AUTOINCREMENT id orders them); the hub only tells the readers that
// are open now, each through a bounded queue. A reader that falls behind
// loses its queue and is marked to resync: it reads what it missed from
// the store by id, so a slow reader never grows memory and never misses an
// event that is still stored. Single-threaded like the store: everything
// runs on the io thread.

#include "storage/records.hpp"
#include "storage/states.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace stemd::jobs {

// One stored event and the job's status just after it.
struct hub_event {
    storage::event_record event;
    storage::job_status status = storage::job_status::submitting;
};

class event_hub {
public:
    // What one reader holds; it stops receiving when it is destroyed.
    struct subscriber {
        std::string job_id; // "" for every job
        std::deque<hub_event> queue;
        bool resync = false;        // events were dropped: read the store after the last id
        std::function<void()> wake; // called after each event queued (or dropped)
    };

    explicit event_hub(std::size_t max_subscribers = 32, std::size_t queue_limit = 256)
        : max_subscribers_(max_subscribers), queue_limit_(queue_limit) {}

    // A new reader of the events of `job_id` ("" for all), or null when
    // max_subscribers are open already.
    std::shared_ptr<subscriber> subscribe(std::string job_id, std::function<void()> wake);
    // Queues `e` for every reader it concerns.
    void publish(const hub_event& e);
    // Marks every reader to read the store after its last id, and wakes
    // it: events other processes sharing the store appended reach this
    // process's readers only that way (the store's order, never twice).
    void resync_all();
    // On a store other processes append to: publish() marks readers to
    // read the store instead of queueing the event, because a reader sent
    // this process's event N ahead would skip another process's event
    // N - 1 that the tail has not read yet. Ids follow commit order there.
    void read_store_always(bool on) { store_always_ = on; }
    // Whether any reader is open (else publishing costs nothing).
    bool has_subscribers();
    std::size_t subscribers();
    std::size_t max_subscribers() const { return max_subscribers_; }
    std::size_t queue_limit() const { return queue_limit_; }

private:
    void forget_closed();

    std::size_t max_subscribers_;
    std::size_t queue_limit_;
    std::vector<std::weak_ptr<subscriber>> subscribers_;
    bool store_always_ = false;
};

// The process-wide hub that note_event (events.hpp) publishes to.
event_hub& hub();

} // namespace stemd::jobs
