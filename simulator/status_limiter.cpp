#include "simulator/status_limiter.hpp"

namespace stemd::simulator {

std::optional<std::chrono::milliseconds> status_limiter::refuse(clock::time_point now) {
    if (limit_ == 0) {
        return std::nullopt;
    }
    while (!calls_.empty() && calls_.front() + window_ <= now) {
        calls_.pop_front();
    }
    if (calls_.size() >= limit_) {
        return std::chrono::ceil<std::chrono::milliseconds>(calls_.front() + window_ - now);
    }
    calls_.push_back(now);
    return std::nullopt;
}

} // namespace stemd::simulator
