#pragma once

// --status-limit: at most `limit` byId calls within any `window` (sliding).

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

namespace stemd::simulator {

class status_limiter {
public:
    using clock = std::chrono::steady_clock;

    // `limit` 0 admits every call.
    status_limiter(std::uint64_t limit, std::chrono::milliseconds window)
        : limit_(limit), window_(window) {}

    // nullopt when a call at `now` may go ahead (it is then counted in the
    // window); otherwise how long until the oldest call leaves the window.
    std::optional<std::chrono::milliseconds> refuse(clock::time_point now = clock::now());

private:
    std::uint64_t limit_;
    std::chrono::milliseconds window_;
    std::deque<clock::time_point> calls_; // within the window
};

} // namespace stemd::simulator
