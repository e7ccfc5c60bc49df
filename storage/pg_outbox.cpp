#include "storage/pg_outbox.hpp"

#include "storage/pg_connection.hpp"

// Not built yet: every call fails loudly (replaced by the real statements).

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace stemd::storage::pg {

void write_outbox_events(connection& c, std::string_view job_id, millis now) {
    throw pg_error("pg_outbox: not built yet", "", false);
}

void end_failed_events_at_retry(connection& c, std::string_view job_id) {
    throw pg_error("pg_outbox: not built yet", "", false);
}

std::vector<notification_record> select_notifications(connection& c, std::string_view job_id) {
    throw pg_error("pg_outbox: not built yet", "", false);
}

result<std::vector<notification_record>> claim_notifications(connection& c, std::string_view owner, millis now, millis lease, int limit) {
    throw pg_error("pg_outbox: not built yet", "", false);
}

result<void> end_notification(connection& c, std::string_view id, std::string_view owner, const notification_end& e, millis now) {
    throw pg_error("pg_outbox: not built yet", "", false);
}

result<std::optional<millis>> next_notification_due(connection& c) {
    throw pg_error("pg_outbox: not built yet", "", false);
}

result<std::vector<notification_record>> notifications(connection& c, std::optional<std::string_view> status, int limit) {
    throw pg_error("pg_outbox: not built yet", "", false);
}

int release_notification_claims(connection& c) {
    throw pg_error("pg_outbox: not built yet", "", false);
}

std::int64_t pending_notifications(connection& c) {
    throw pg_error("pg_outbox: not built yet", "", false);
}

} // namespace stemd::storage::pg
