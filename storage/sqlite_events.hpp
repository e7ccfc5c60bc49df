#pragma once

// The SQLite store's job histories (see store::append_event). Each function
// throws sqlite_error when SQLite fails.

#include "common/error.hpp"
#include "storage/records.hpp"

#include <cstdint>
#include <string_view>
#include <vector>

namespace stemd::storage {
class database;
}

namespace stemd::storage::sqlite {

result<std::int64_t> append_event(database& db, const new_event& e);
result<std::vector<event_record>> events(database& db, std::string_view job_id, int limit);
result<std::vector<event_record>> events_after(database& db, std::int64_t after,
                                               std::string_view job_id, int limit);
result<std::int64_t> newest_event_id(database& db);

} // namespace stemd::storage::sqlite
