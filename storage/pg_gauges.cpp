#include "storage/pg_gauges.hpp"

#include "storage/pg_connection.hpp"
#include "storage/pg_outbox.hpp"
#include "storage/sqlite_gauges.hpp"

#include <algorithm>

namespace stemd::storage::pg {

const std::string& gauges_sql() {
    // Plain SQL that both engines run as it is (one statement, so the counts
    // are of one moment), and the same indexes serve it: said once.
    return sqlite::gauges_sql();
}

namespace {

void add_job_row(store_gauges& g, job_status status, std::int64_t count, millis oldest) {
    const auto at = std::find(job_statuses.begin(), job_statuses.end(), status);
    g.jobs[static_cast<std::size_t>(at - job_statuses.begin())] += count;
    if (!is_final(status))
        g.oldest_unfinished = std::min(g.oldest_unfinished.value_or(oldest), oldest);
}

} // namespace

result<store_gauges> gauges(connection& c) {
    store_gauges g;
    const auto counts = c.exec(gauges_sql());
    for (int i = 0; i < counts.size(); ++i) {
        const std::int64_t count = counts.int64(i, 2);
        if (counts.text(i, 0) == "file") {
            g.queued_files += count;
            continue;
        }
        if (const auto job = parse_job_status(counts.text(i, 1)))
            add_job_row(g, *job, count, counts.int64(i, 3));
        // else: the schema's CHECK keeps this from happening
    }
    g.pending_notifications = pending_notifications(c);
    return g;
}

} // namespace stemd::storage::pg
