#include "storage/pg_events.hpp"

#include "storage/error.hpp"
#include "storage/pg_connection.hpp"

#include <algorithm>
#include <string>

namespace stemd::storage::pg {

namespace {

// The advisory lock every append holds until its commit ("events" in
// ASCII: not the migration's).
constexpr std::string_view append_lock = "SELECT pg_advisory_xact_lock(x'6576656e7473'::bigint)";

std::vector<event_record> read_events(const rows& r) {
    std::vector<event_record> out;
    out.reserve(static_cast<std::size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) {
        out.push_back(
            {r.int64(i, 0), r.text(i, 1), r.int64(i, 2), r.text(i, 3), r.text(i, 4), r.text(i, 5)});
    }
    return out;
}

} // namespace

result<std::int64_t> append_event(connection& c, const new_event& e) {
    transaction tx(c);
    // Identity values are handed out at INSERT but become visible at COMMIT,
    // so two instances appending at once could commit 11 before 10, and a
    // GET /v1/events replay that has read 11 would never see 10. Appends
    // take turns instead, each holding the lock until its commit: an id is
    // taken only after every smaller one has committed (or rolled back).
    c.exec(append_lock);
    // Inserted only for a job that exists: a missing one is not_found, not
    // a foreign-key failure with PostgreSQL's wording.
    const auto inserted =
        c.exec("INSERT INTO events (job_id, at, kind, file, detail) "
               "SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM jobs WHERE id = $1) "
               "RETURNING id",
               params().add(e.job_id).add(e.at).add(e.kind).add(e.file).add(e.detail));
    if (inserted.empty())
        return make_error(error::not_found, "no job " + e.job_id + " to record an event for");
    const std::int64_t id = inserted.int64(0, 0);
    // Only the newest are kept; through the (job_id, id) index this touches
    // the one event that fell off the end, if any.
    c.exec("DELETE FROM events WHERE job_id = $1 AND id <= (SELECT id FROM events "
           "WHERE job_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)",
           params().add(e.job_id).add(max_events_per_job));
    tx.commit();
    return id;
}

result<std::vector<event_record>> events(connection& c, std::string_view job_id, int limit) {
    return read_events(c.exec(
        "SELECT id, job_id, at, kind, file, detail FROM (SELECT id, job_id, at, kind, file, "
        "detail FROM events WHERE job_id = $1 ORDER BY id DESC LIMIT $2) AS newest ORDER BY id",
        params().add(job_id).add(std::clamp(limit, 1, max_events_per_job))));
}

result<std::vector<event_record>> events_after(connection& c, std::int64_t after,
                                               std::string_view job_id, int limit) {
    // Through the primary key for all jobs, through the (job_id, id) index
    // for one.
    params p;
    p.add(after).add(std::clamp(limit, 1, max_events_after));
    if (!job_id.empty())
        p.add(job_id);
    return read_events(c.exec(
        job_id.empty() ? "SELECT id, job_id, at, kind, file, detail FROM events WHERE id > $1 "
                         "ORDER BY id LIMIT $2"
                       : "SELECT id, job_id, at, kind, file, detail FROM events WHERE id > $1 "
                         "AND job_id = $3 ORDER BY id LIMIT $2",
        p));
}

result<std::int64_t> newest_event_id(connection& c) {
    return c.exec("SELECT COALESCE(MAX(id), 0) FROM events").int64(0, 0);
}

} // namespace stemd::storage::pg
