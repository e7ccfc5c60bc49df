#pragma once

#include "cli/api_client.hpp"
#include "common/error.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace stemd::cli {

// Follows the job's events (GET /v1/events?job=, reconnecting with
// Last-Event-ID when the stream drops, a few times in a row at most) and
// reads the job again after each, with a line on stderr each time it
// moves on (unless as_json), until it is final or `timeout` has passed;
// then prints it. The exit code is 0 when it completed; failure job_failed when it
// failed, timed_out when the timeout passed first.
result<int> wait_for_job(const api_client& api, const std::string& key,
                         std::optional<std::chrono::milliseconds> timeout, bool as_json);

} // namespace stemd::cli
