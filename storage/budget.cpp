#include "storage/budget.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace stemd::storage {

namespace {

// Rounding of the refill must not refuse a token that is there.
constexpr double slack = 1e-9;

} // namespace

budget_take draw(bucket& b, millis now, double capacity, double per_second) {
    const millis at = std::max(now, b.updated_at);
    const double elapsed = static_cast<double>(at - b.updated_at) / 1000.0;
    b.tokens = std::min(capacity, b.tokens + elapsed * std::max(per_second, 0.0));
    b.updated_at = at;
    const bool paused = now < b.paused_until;
    if (!paused && b.tokens >= 1.0 - slack) {
        b.tokens = std::max(0.0, b.tokens - 1.0);
        return budget_take{true, now};
    }
    millis refilled = at;
    if (b.tokens < 1.0 - slack) {
        if (per_second <= 0.0 || capacity < 1.0) {
            // Never refills to a whole token: no time to come back at.
            refilled = std::numeric_limits<millis>::max();
        } else {
            refilled =
                at + static_cast<millis>(std::ceil((1.0 - b.tokens) * 1000.0 / per_second - slack));
        }
    }
    return budget_take{false, std::max(refilled, paused ? b.paused_until : now)};
}

} // namespace stemd::storage
