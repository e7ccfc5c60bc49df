#pragma once

// The arithmetic of a rate budget (store::take_budget): a token bucket kept
// in one row, whichever engine stores it. Pure functions.

#include "storage/store.hpp"

namespace stemd::storage {

// What a budget row holds.
struct bucket {
    double tokens = 0;     // as of updated_at; may exceed the capacity (see full_bucket)
    millis updated_at = 0; // the latest time any process drew at
    millis paused_until = 0;
};

// The tokens a bucket holds when it is written before anyone said its
// capacity (pause_budget on a missing bucket): more than any capacity, so
// the first draw finds it full.
inline constexpr double full_bucket = 1e15;

// Refills `b` up to `now` (never backwards: processes' clocks differ a
// little, and time only adds tokens), then takes one token if there is
// one and no pause holds at `now`.
budget_take draw(bucket& b, millis now, double capacity, double per_second);

} // namespace stemd::storage
