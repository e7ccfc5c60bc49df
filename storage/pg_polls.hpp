#pragma once

// The PostgreSQL store's status look-ups (MusicGPT's byId): which are due,
// claiming them, planning the next (see store.hpp for each contract). Each
// function throws pg_error when PostgreSQL fails.

#include "common/error.hpp"
#include "storage/records.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace stemd::storage::pg {
class connection;
}

namespace stemd::storage::pg {

result<std::vector<job_record>> jobs_due_for_poll(connection& c, millis now, int limit);
result<std::optional<millis>> next_poll_due(connection& c);
result<std::vector<job_record>> claim_polls(connection& c, std::string_view owner, millis now,
                                            millis lease, int limit);
result<void> schedule_poll(connection& c, std::string_view job_id, std::optional<millis> at);
result<void> poll_again(connection& c, std::string_view job_id, std::string_view owner, millis at);
result<void> release_poll(connection& c, std::string_view job_id, std::string_view owner,
                          std::optional<millis> replan);
// Inside the caller's transaction; return how many claims they touched.
int renew_poll_claims(connection& c, std::string_view owner, millis until);
int release_poll_claims(connection& c);
// Only the claims of `owner` (its clean shutdown).
int release_poll_claims(connection& c, std::string_view owner);
result<job_record> fail_awaiting_links(connection& c, std::string_view job_id,
                                       std::string_view owner, std::string_view reason);

} // namespace stemd::storage::pg
