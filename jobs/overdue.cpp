#include "jobs/overdue.hpp"

#include "jobs/poll_plan.hpp"

namespace stemd::jobs {

std::optional<millis> overdue_at(const storage::job_record& j, const service_options& o) {
    using storage::job_status;
    if (storage::is_final(j.status))
        return std::nullopt;
    if (j.status == job_status::downloading) {
        const auto attempt = o.download.max_duration + o.retry_cap;
        return j.updated_at + attempt.count() * std::max(o.max_attempts, 1);
    }
    const poll_timing timing{true, o.overdue_factor, o.overdue_floor};
    return j.created_at + first_poll_delay(timing, j.eta).count() + o.unknown_task_after.count();
}

std::vector<storage::job_record> overdue_jobs(const std::vector<storage::job_record>& jobs,
                                              const service_options& o, millis now) {
    std::vector<storage::job_record> out;
    for (const auto& j : jobs)
        if (auto at = overdue_at(j, o); at && now > *at)
            out.push_back(j);
    return out;
}

} // namespace stemd::jobs
