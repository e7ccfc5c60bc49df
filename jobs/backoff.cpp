#include "jobs/backoff.hpp"

#include <algorithm>

namespace stemd::jobs {

std::chrono::milliseconds doubled(std::chrono::milliseconds base, std::chrono::milliseconds cap,
                                  int attempts) {
    const std::chrono::milliseconds d = base * (1LL << std::clamp(attempts - 1, 0, 20));
    return std::min(d, cap);
}

std::chrono::milliseconds jittered(std::chrono::milliseconds d, std::uint64_t random) {
    if (d.count() <= 0)
        return d;
    const auto low = static_cast<std::uint64_t>(d.count() / 2);
    const auto span = static_cast<std::uint64_t>(d.count()) - low + 1;
    return std::chrono::milliseconds(static_cast<long long>(low + random % span));
}

std::chrono::milliseconds backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap,
                                  int attempts, std::uint64_t random) {
    return jittered(doubled(base, cap, attempts), random);
}

} // namespace stemd::jobs
