#pragma once

// The SQLite store's job histories (see store::append_event). Each function
// throws sqlite_error when SQLite fails.

#include "common/error.hpp"
#include "storage/records.hpp"

#include <string_view>
#include <vector>

namespace stemd::storage {
class database;
}

namespace stemd::storage::sqlite {

result<void> append_event(database& db, const new_event& e);
result<std::vector<event_record>> events(database& db, std::string_view job_id, int limit);

} // namespace stemd::storage::sqlite
