#pragma once

// The one place that defines a job's JSON shape on the local API.

#include "storage/records.hpp"

#include <boost/json/object.hpp>

namespace stemd::server {

// The job as the local API shows it (see README, "Local API"). Never
// contains the webhook token or the stem links' query strings.
boost::json::object job_to_json(const storage::job_record& job);

} // namespace stemd::server
