#pragma once

// The outbox on PostgreSQL: events written when a job becomes completed or
// failed (from set_job_status, inside the caller's transaction), and their
// claimed deliveries.

#include "common/error.hpp"
#include "storage/pg_connection.hpp"
#include "storage/records.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace stemd::storage::pg {

// One event per channel of db.outbox_channels() for the job, which has just
// become final; its body is built from the job as it now is. Runs inside
// the caller's transaction.
void write_outbox_events(connection& c, std::string_view job_id, millis now);

// Inside the caller's transaction, when a failed job is retried: its
// job.failed events not yet delivered end as failed (a delivery in flight
// loses its claim), so news of the old failure cannot arrive after the
// retry's own outcome.
void end_failed_events_at_retry(connection& c, std::string_view job_id);

// The job's events, oldest first.
std::vector<notification_record> select_notifications(connection& c, std::string_view job_id);

result<std::vector<notification_record>> claim_notifications(connection& c, std::string_view owner,
                                                             millis now, millis lease, int limit);
result<void> end_notification(connection& c, std::string_view id, std::string_view owner,
                              const notification_end& e, millis now);
result<std::optional<millis>> next_notification_due(connection& c);
result<std::vector<notification_record>>
notifications(connection& c, std::optional<std::string_view> status, int limit);
// Inside the caller's transaction: every pending event `owner` holds is
// claimed until `until` at least (the heartbeat of a batch being sent one
// after another; a longer claim is kept); returns how many were renewed.
int renew_notification_claims(connection& c, std::string_view owner, millis until);
// Inside the caller's transaction; returns how many were released.
int release_notification_claims(connection& c);
// The same for the claims of `owner` only (its clean shutdown).
int release_notification_claims(connection& c, std::string_view owner);
std::int64_t pending_notifications(connection& c);

} // namespace stemd::storage::pg
