#pragma once

#include <chrono>

namespace stemd::jobs {

// Spreads calls to a rate-limited endpoint over time: up to `capacity` at
// once, then `per_second` on average. Pure (time is passed in), one thread.
class token_bucket {
public:
    using clock = std::chrono::steady_clock;

    token_bucket(double capacity, double per_second, clock::time_point now);
    // For an endpoint allowed `per_minute` calls a minute: sized so that no
    // window of 60 s ever holds more than that many calls, since a server
    // counting per sliding minute would refuse a full burst followed by a
    // full refill.
    static token_bucket per_minute(int per_minute, clock::time_point now);

    // Takes a token and returns zero when one is there at `now`; otherwise
    // takes nothing and returns how long until one will be.
    clock::duration take(clock::time_point now);
    // No token before `until` (a server's Retry-After), then one.
    void pause_until(clock::time_point until);

private:
    void refill(clock::time_point now);

    double capacity_;
    double per_second_;
    double tokens_;
    clock::time_point updated_;
};

} // namespace stemd::jobs
