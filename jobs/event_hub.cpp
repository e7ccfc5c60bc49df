#include "jobs/event_hub.hpp"

#include <algorithm>

namespace stemd::jobs {

std::shared_ptr<event_hub::subscriber> event_hub::subscribe(std::string job_id,
                                                            std::function<void()> wake) {
    forget_closed();
    if (subscribers_.size() >= max_subscribers_)
        return nullptr;
    auto s = std::make_shared<subscriber>();
    s->job_id = std::move(job_id);
    s->wake = std::move(wake);
    subscribers_.push_back(s);
    return s;
}

void event_hub::publish(const hub_event& e) {
    forget_closed();
    // A copy: a wake callback may open or close readers.
    const auto readers = subscribers_;
    for (const auto& weak : readers) {
        const auto s = weak.lock();
        if (!s || (!s->job_id.empty() && s->job_id != e.event.job_id))
            continue;
        if (s->resync) {
            // It reads the store anyway; this event is there.
        } else if (store_always_) {
            s->queue.clear();
            s->resync = true;
        } else if (s->queue.size() >= queue_limit_) {
            s->queue.clear();
            s->resync = true;
        } else {
            s->queue.push_back(e);
        }
        if (s->wake)
            s->wake();
    }
}

void event_hub::resync_all() {
    forget_closed();
    const auto readers = subscribers_;
    for (const auto& weak : readers) {
        const auto s = weak.lock();
        if (!s)
            continue;
        s->queue.clear(); // all stored, read again from the store
        s->resync = true;
        if (s->wake)
            s->wake();
    }
}

bool event_hub::has_subscribers() {
    return subscribers() > 0;
}

std::size_t event_hub::subscribers() {
    forget_closed();
    return subscribers_.size();
}

void event_hub::forget_closed() {
    std::erase_if(subscribers_, [](const auto& w) { return w.expired(); });
}

event_hub& hub() {
    static event_hub the_hub;
    return the_hub;
}

} // namespace stemd::jobs
