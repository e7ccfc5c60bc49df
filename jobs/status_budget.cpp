#include "jobs/status_budget.hpp"

#include <algorithm>

namespace stemd::jobs {

budget_size per_minute_budget(int per_minute) {
    const int n = std::max(per_minute, 1);
    const int burst = std::max(n / 10, 1);
    return {static_cast<double>(burst), std::max(n - burst, 1) / 60.0};
}

result<std::chrono::milliseconds> take_status_token(storage::store& store, int per_minute,
                                                    storage::millis now) {
    const auto size = per_minute_budget(per_minute);
    auto taken = store.take_budget(status_budget_name, now, size.capacity, size.per_second);
    if (!taken)
        return taken.error();
    if (taken->granted)
        return std::chrono::milliseconds(0);
    return std::chrono::milliseconds(std::max<storage::millis>(taken->retry_at - now, 1));
}

result<void> pause_status_budget(storage::store& store, storage::millis until) {
    return store.pause_budget(status_budget_name, until);
}

} // namespace stemd::jobs
