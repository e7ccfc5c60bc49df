#include "jobs/event_tail.hpp"

#include "jobs/event_hub.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace stemd::jobs {

namespace net = boost::asio;

event_tail::event_tail(net::any_io_executor ex, std::chrono::milliseconds period)
    : period_(period), timer_(ex) {}

net::awaitable<void> event_tail::run() {
    while (!stopping_) {
        timer_.expires_after(period_);
        co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
        if (!stopping_ && hub().has_subscribers())
            hub().resync_all();
    }
}

void event_tail::stop() {
    stopping_ = true;
    timer_.cancel();
}

} // namespace stemd::jobs
