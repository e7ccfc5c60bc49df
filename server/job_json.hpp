#pragma once

// The one place that defines a job's JSON shape on the local API.

#include "jobs/progress.hpp"
#include "storage/records.hpp"

#include <boost/json/object.hpp>

namespace stemd::server {

// The job as the local API shows it (see README, "Local API"). Never
// contains the webhook token or the stem links' query strings.
// A downloading file found in `progress` also shows received_bytes and
// total_bytes (null while the server has not said).
boost::json::object job_to_json(const storage::job_record& job,
                                const jobs::progress_table* progress = nullptr);

// One outbox event of a job ("notifications" in the job, and with its
// job_id, channel and created_at in GET /v1/notifications).
boost::json::object notification_to_json(const storage::notification_record& n);

// One event of a job's history as GET /v1/jobs/{key}/events shows it.
boost::json::object event_to_json(const storage::event_record& e);

} // namespace stemd::server
