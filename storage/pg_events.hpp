#pragma once

// The PostgreSQL store's job histories (see store::append_event). Each function
// throws pg_error when PostgreSQL fails.

#include "common/error.hpp"
#include "storage/records.hpp"

#include <cstdint>
#include <string_view>
#include <vector>

namespace stemd::storage::pg {
class connection;
}

namespace stemd::storage::pg {

result<std::int64_t> append_event(connection& c, const new_event& e);
result<std::vector<event_record>> events(connection& c, std::string_view job_id, int limit);
result<std::vector<event_record>> events_after(connection& c, std::int64_t after,
                                               std::string_view job_id, int limit);
result<std::int64_t> newest_event_id(connection& c);

} // namespace stemd::storage::pg
