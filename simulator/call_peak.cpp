#include "simulator/call_peak.hpp"

#include <algorithm>

namespace stemd::simulator {

std::uint64_t call_peak::add(clock::time_point now) {
    // A window is half-open, [t, t + window): a call exactly one window
    // after another is in the next one, as status_limiter counts them.
    while (!calls_.empty() && calls_.front() + window_ <= now) {
        calls_.pop_front();
    }
    calls_.push_back(now);
    peak_ = std::max<std::uint64_t>(peak_, calls_.size());
    return peak_;
}

} // namespace stemd::simulator
