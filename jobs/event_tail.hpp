#pragma once

// On a store other processes share: their job events are appended there,
// never published to this process's event hub, so the live readers of
// GET /v1/events are told to read the store after their last id every
// period (and whenever the store's hint says something changed).
// Included only by .cpp files (it pulls in Asio).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>

namespace stemd::jobs {

class event_tail {
public:
    event_tail(boost::asio::any_io_executor ex, std::chrono::milliseconds period);

    // Until stop().
    boost::asio::awaitable<void> run();
    void stop();

private:
    std::chrono::milliseconds period_;
    boost::asio::steady_timer timer_;
    bool stopping_ = false;
};

} // namespace stemd::jobs
