#include "storage/pg_events.hpp"

#include "storage/pg_connection.hpp"

// Not built yet: every call fails loudly (replaced by the real statements).

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace stemd::storage::pg {

result<std::int64_t> append_event(connection& c, const new_event& e) {
    throw pg_error("pg_events: not built yet", "", false);
}

result<std::vector<event_record>> events(connection& c, std::string_view job_id, int limit) {
    throw pg_error("pg_events: not built yet", "", false);
}

result<std::vector<event_record>> events_after(connection& c, std::int64_t after, std::string_view job_id, int limit) {
    throw pg_error("pg_events: not built yet", "", false);
}

result<std::int64_t> newest_event_id(connection& c) {
    throw pg_error("pg_events: not built yet", "", false);
}

} // namespace stemd::storage::pg
