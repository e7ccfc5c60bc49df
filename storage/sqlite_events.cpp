#include "storage/sqlite_events.hpp"

#include "storage/database.hpp"
#include "storage/error.hpp"

#include <algorithm>
#include <string>

namespace stemd::storage::sqlite {

result<std::int64_t> append_event(database& db, const new_event& e) {
    transaction tx(db);
    // Inserted only for a job that exists: a missing one is not_found, not
    // a foreign-key failure with SQLite's wording.
    statement insert(db,
                     "INSERT INTO events (job_id, at, kind, file, detail) "
                     "SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM jobs WHERE id = ?1)");
    insert.bind(1, e.job_id).bind(2, e.at).bind(3, e.kind).bind(4, e.file).bind(5, e.detail).exec();
    if (db.changes() == 0)
        return make_error(error::not_found, "no job " + e.job_id + " to record an event for");
    const std::int64_t id = db.last_insert_rowid();
    // Only the newest are kept; through the (job_id, id) index this touches
    // the one event that fell off the end, if any.
    statement prune(db, "DELETE FROM events WHERE job_id = ?1 AND id <= (SELECT id FROM events "
                        "WHERE job_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)");
    prune.bind(1, e.job_id).bind(2, max_events_per_job).exec();
    tx.commit();
    return id;
}

result<std::vector<event_record>> events(database& db, std::string_view job_id, int limit) {
    statement s(db, "SELECT id, job_id, at, kind, file, detail FROM (SELECT * FROM events WHERE "
                    "job_id = ?1 ORDER BY id DESC LIMIT ?2) ORDER BY id");
    s.bind(1, job_id).bind(2, std::clamp(limit, 1, max_events_per_job));
    std::vector<event_record> out;
    while (s.step()) {
        out.push_back({s.column_int(0), s.column_text(1), s.column_int(2), s.column_text(3),
                       s.column_text(4), s.column_text(5)});
    }
    return out;
}

result<std::vector<event_record>> events_after(database& db, std::int64_t after,
                                               std::string_view job_id, int limit) {
    // Through the primary key (AUTOINCREMENT id) for all jobs, through the
    // (job_id, id) index for one: no new index needed.
    statement s(db, job_id.empty()
                        ? "SELECT id, job_id, at, kind, file, detail FROM events WHERE id > ?1 "
                          "ORDER BY id LIMIT ?2"
                        : "SELECT id, job_id, at, kind, file, detail FROM events WHERE id > ?1 "
                          "AND job_id = ?3 ORDER BY id LIMIT ?2");
    s.bind(1, after).bind(2, std::clamp(limit, 1, max_events_after));
    if (!job_id.empty())
        s.bind(3, job_id);
    std::vector<event_record> out;
    while (s.step()) {
        out.push_back({s.column_int(0), s.column_text(1), s.column_int(2), s.column_text(3),
                       s.column_text(4), s.column_text(5)});
    }
    return out;
}

result<std::int64_t> newest_event_id(database& db) {
    statement s(db, "SELECT COALESCE(MAX(id), 0) FROM events");
    s.step();
    return s.column_int(0);
}

} // namespace stemd::storage::sqlite
