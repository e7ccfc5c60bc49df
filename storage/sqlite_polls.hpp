#pragma once

// The SQLite store's status look-ups (MusicGPT's byId): which are due,
// claiming them, planning the next (see store.hpp for each contract). Each
// function throws sqlite_error when SQLite fails.

#include "common/error.hpp"
#include "storage/records.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace stemd::storage {
class database;
}

namespace stemd::storage::sqlite {

result<std::vector<job_record>> jobs_due_for_poll(database& db, millis now, int limit);
result<std::optional<millis>> next_poll_due(database& db);
result<std::vector<job_record>> claim_polls(database& db, std::string_view owner, millis now,
                                            millis lease, int limit);
result<void> schedule_poll(database& db, std::string_view job_id, std::optional<millis> at);
result<void> poll_again(database& db, std::string_view job_id, std::string_view owner, millis at);
result<void> release_poll(database& db, std::string_view job_id, std::string_view owner,
                          std::optional<millis> replan);
// Inside the caller's transaction; return how many claims they touched.
int renew_poll_claims(database& db, std::string_view owner, millis until);
int release_poll_claims(database& db);
// Only the claims of `owner` (its clean shutdown).
int release_poll_claims(database& db, std::string_view owner);
result<job_record> fail_awaiting_links(database& db, std::string_view job_id,
                                       std::string_view owner, std::string_view reason);

} // namespace stemd::storage::sqlite
