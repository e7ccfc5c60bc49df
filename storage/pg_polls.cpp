#include "storage/pg_polls.hpp"

#include "storage/pg_connection.hpp"

// Not built yet: every call fails loudly (replaced by the real statements).

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace stemd::storage::pg {

result<std::vector<job_record>> jobs_due_for_poll(connection& c, millis now, int limit) {
    throw pg_error("pg_polls: not built yet", "", false);
}

result<std::optional<millis>> next_poll_due(connection& c) {
    throw pg_error("pg_polls: not built yet", "", false);
}

result<std::vector<job_record>> claim_polls(connection& c, std::string_view owner, millis now, millis lease, int limit) {
    throw pg_error("pg_polls: not built yet", "", false);
}

result<void> schedule_poll(connection& c, std::string_view job_id, std::optional<millis> at) {
    throw pg_error("pg_polls: not built yet", "", false);
}

result<void> poll_again(connection& c, std::string_view job_id, std::string_view owner, millis at) {
    throw pg_error("pg_polls: not built yet", "", false);
}

result<void> release_poll(connection& c, std::string_view job_id, std::string_view owner, std::optional<millis> replan) {
    throw pg_error("pg_polls: not built yet", "", false);
}

int renew_poll_claims(connection& c, std::string_view owner, millis until) {
    throw pg_error("pg_polls: not built yet", "", false);
}

int release_poll_claims(connection& c) {
    throw pg_error("pg_polls: not built yet", "", false);
}

result<job_record> fail_awaiting_links(connection& c, std::string_view job_id, std::string_view owner, std::string_view reason) {
    throw pg_error("pg_polls: not built yet", "", false);
}

} // namespace stemd::storage::pg
