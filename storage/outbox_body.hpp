#pragma once

// The body of an outbox event (what the user's app receives when a job
// becomes completed or failed), the same whichever engine stores it.

#include "storage/records.hpp"

#include <string>
#include <string_view>

namespace stemd::storage {

// `job` as it is now, with its files; `type` is job.completed or job.failed.
std::string outbox_event_body(const job_record& job, std::string_view type, millis now);

} // namespace stemd::storage
