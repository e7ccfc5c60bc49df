#pragma once

// The most calls seen within any sliding window of a given length: what a
// test compares with a rate budget (several stemd instances sharing one
// byId budget must never together exceed it in any window).

#include <chrono>
#include <cstdint>
#include <deque>

namespace stemd::simulator {

class call_peak {
public:
    using clock = std::chrono::steady_clock;

    explicit call_peak(std::chrono::milliseconds window) : window_(window) {}

    // Counts a call at `now` (calls come in time order); returns the peak.
    std::uint64_t add(clock::time_point now = clock::now());
    std::uint64_t peak() const noexcept { return peak_; }

private:
    std::chrono::milliseconds window_;
    std::deque<clock::time_point> calls_; // within the window ending at the last call
    std::uint64_t peak_ = 0;
};

} // namespace stemd::simulator
