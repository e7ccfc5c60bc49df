#pragma once

// How long to wait before trying again after the n-th failure in a row.

#include <chrono>
#include <cstdint>

namespace stemd::jobs {

// base * 2^(attempts-1), at most cap (attempts below 1 count as 1).
std::chrono::milliseconds doubled(std::chrono::milliseconds base, std::chrono::milliseconds cap,
                                  int attempts);

// A duration in [d/2, d] chosen by `random` (any 64-bit value, e.g. from
// std::mt19937_64), so many jobs or files failing together do not retry in
// lockstep. The caller owns the random source, which keeps this pure.
std::chrono::milliseconds jittered(std::chrono::milliseconds d, std::uint64_t random);

// Both: the delay before attempt `attempts + 1`.
std::chrono::milliseconds backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap,
                                  int attempts, std::uint64_t random);

} // namespace stemd::jobs
