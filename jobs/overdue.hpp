#pragma once

// When a job that is not final has waited longer than stemd would ever let
// it wait on its own: what `stemd doctor` lists as stuck. Included only by
// .cpp files (service_options pulls in Asio).

#include "jobs/options.hpp"
#include "storage/records.hpp"

#include <optional>
#include <vector>

namespace stemd::jobs {

// The time after which `j` is over its bound, or nullopt for a final job.
//  - waiting for MusicGPT (submitting, submitted): from its creation, the
//    point at which the webhook is overdue and stemd starts asking byId
//    (max(overdue_factor * eta, overdue_floor)) plus unknown_task_after, by
//    when a task MusicGPT does not know has failed;
//  - downloading: from its last change, max_attempts attempts of the
//    longest a download may take (download max_seconds) each followed by
//    the longest back-off.
std::optional<millis> overdue_at(const storage::job_record& j, const service_options& o);

// The jobs of `jobs` over their bound at `now`, in the order given.
std::vector<storage::job_record> overdue_jobs(const std::vector<storage::job_record>& jobs,
                                              const service_options& o, millis now);

} // namespace stemd::jobs
