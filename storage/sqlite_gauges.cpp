#include "storage/sqlite_gauges.hpp"

#include "storage/database.hpp"

#include <algorithm>

namespace stemd::storage::sqlite {

namespace {

// One statement, so one read transaction: the counts are of one moment.
// Which states count as unfinished is decided below by states.hpp, not in
// SQL, so that it is said once.
constexpr std::string_view counts_sql = R"sql(
SELECT 'job', status, '', COUNT(*), MIN(created_at) FROM jobs GROUP BY status
UNION ALL
SELECT 'file', j.status, f.status, COUNT(*), 0
  FROM files f JOIN jobs j ON j.id = f.job_id GROUP BY j.status, f.status
)sql";

void add_job_row(store_gauges& g, job_status status, std::int64_t count, millis oldest) {
    const auto at = std::find(job_statuses.begin(), job_statuses.end(), status);
    g.jobs[static_cast<std::size_t>(at - job_statuses.begin())] += count;
    if (!is_final(status))
        g.oldest_unfinished = std::min(g.oldest_unfinished.value_or(oldest), oldest);
}

} // namespace

result<store_gauges> gauges(database& db) {
    store_gauges g;
    statement counts(db, counts_sql);
    while (counts.step()) {
        const auto job = parse_job_status(counts.column_text(1));
        if (!job)
            continue; // the schema's CHECK keeps this from happening
        const std::int64_t count = counts.column_int(3);
        if (counts.column_text(0) == "job") {
            add_job_row(g, *job, count, counts.column_int(4));
            continue;
        }
        const auto file = parse_file_status(counts.column_text(2));
        if (file && is_runnable(*file) && is_runnable(*job))
            g.queued_files += count;
    }
    return g;
}

} // namespace stemd::storage::sqlite
