#pragma once

// The budget of MusicGPT status look-ups (byId), kept in the store so that
// every process sharing it draws from one bucket: the limit is the API
// key's, not a process's, so N processes must never send N times the
// allowed calls.

#include "storage/store.hpp"

#include <chrono>
#include <string_view>

namespace stemd::jobs {

// The bucket's name in the store.
inline constexpr std::string_view status_budget_name = "musicgpt.status";

struct budget_size {
    double capacity = 1;   // tokens at most
    double per_second = 1; // refill
};

// For an endpoint allowed `per_minute` calls a minute: a burst of a tenth
// (at least one call) and a refill that with the burst adds up to the
// allowance, so that no window of 60 s ever holds more than that many
// calls (a server counting per sliding minute would refuse a full burst
// followed by a full refill).
budget_size per_minute_budget(int per_minute);

// Takes one look-up's token at `now`: zero when taken, else how long until
// one may be there (at least 1 ms); the store's error when it cannot be read.
result<std::chrono::milliseconds> take_status_token(storage::store& store, int per_minute,
                                                    storage::millis now);

// No look-up by any process before `until` (a 429's Retry-After).
result<void> pause_status_budget(storage::store& store, storage::millis until);

} // namespace stemd::jobs
