#include "jobs/token_bucket.hpp"

#include <algorithm>

namespace stemd::jobs {

token_bucket::token_bucket(double capacity, double per_second, clock::time_point now)
    : capacity_(std::max(capacity, 1.0)), per_second_(std::max(per_second, 1e-6)),
      tokens_(capacity_), updated_(now) {}

token_bucket token_bucket::per_minute(int per_minute, clock::time_point now) {
    // A burst of a tenth of the allowance (at least one call), and a refill
    // that with the burst adds up to the allowance in any 60 s.
    const int n = std::max(per_minute, 1);
    const int burst = std::max(n / 10, 1);
    return token_bucket(burst, std::max(n - burst, 1) / 60.0, now);
}

void token_bucket::refill(clock::time_point now) {
    if (now <= updated_)
        return;
    const std::chrono::duration<double> elapsed = now - updated_;
    tokens_ = std::min(capacity_, tokens_ + elapsed.count() * per_second_);
    updated_ = now;
}

token_bucket::clock::duration token_bucket::take(clock::time_point now) {
    if (now < updated_)
        return updated_ - now; // paused
    refill(now);
    if (tokens_ >= 1) {
        tokens_ -= 1;
        return clock::duration::zero();
    }
    const std::chrono::duration<double> wait((1 - tokens_) / per_second_);
    return std::max<clock::duration>(std::chrono::duration_cast<clock::duration>(wait),
                                     std::chrono::milliseconds(1));
}

void token_bucket::pause_until(clock::time_point until) {
    if (until <= updated_)
        return;
    // One call when the server said calls may resume, then the steady
    // rate: a full burst right away would likely be refused again.
    tokens_ = 1;
    updated_ = until;
}

} // namespace stemd::jobs
