#pragma once

#include "storage/records.hpp"

#include <boost/json/object.hpp>

#include <string>

namespace stemd::server {

// RFC 3339 UTC with milliseconds, e.g. 2026-11-25T12:00:00.123Z.
std::string rfc3339(storage::millis t);

// The job as the local API shows it (see README, "Local API"). Never
// contains the webhook token or the stem links' query strings.
boost::json::object job_to_json(const storage::job_record& job);

} // namespace stemd::server
