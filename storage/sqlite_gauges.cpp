#include "storage/sqlite_gauges.hpp"

#include "storage/sqlite_outbox.hpp"

#include "storage/database.hpp"

#include <algorithm>

namespace stemd::storage::sqlite {

namespace {

// "'a', 'b'": the states `keep` selects, quoted for an IN list, so that
// which states count as unfinished is said once, in states.hpp.
template <typename status, std::size_t n>
std::string in_list(const std::array<status, n>& all, bool (*keep)(status) noexcept) {
    std::string out;
    for (const auto s : all)
        if (keep(s))
            out += (out.empty() ? "'" : ", '") + std::string(to_string(s)) + "'";
    return out;
}

// One statement, so one read transaction: the counts are of one moment.
// The jobs are counted from jobs_by_status; the queued files are looked up
// through files_runnable by status, so a scrape does not read the files of
// every job ever saved.
} // namespace

const std::string& gauges_sql() {
    static const std::string sql =
        "SELECT 'job', status, COUNT(*), MIN(created_at) FROM jobs GROUP BY status\n"
        "UNION ALL\n"
        "SELECT 'file', '', COUNT(*), 0 FROM files f JOIN jobs j ON j.id = f.job_id\n"
        " WHERE f.status IN (" +
        in_list(file_statuses, &is_runnable) + ") AND j.status IN (" +
        in_list(job_statuses, &is_runnable) + ")";
    return sql;
}

namespace {

void add_job_row(store_gauges& g, job_status status, std::int64_t count, millis oldest) {
    const auto at = std::find(job_statuses.begin(), job_statuses.end(), status);
    g.jobs[static_cast<std::size_t>(at - job_statuses.begin())] += count;
    if (!is_final(status))
        g.oldest_unfinished = std::min(g.oldest_unfinished.value_or(oldest), oldest);
}

} // namespace

result<store_gauges> gauges(database& db) {
    store_gauges g;
    statement counts(db, gauges_sql());
    while (counts.step()) {
        const std::int64_t count = counts.column_int(2);
        if (counts.column_text(0) == "file") {
            g.queued_files += count;
            continue;
        }
        if (const auto job = parse_job_status(counts.column_text(1)))
            add_job_row(g, *job, count, counts.column_int(3));
        // else: the schema's CHECK keeps this from happening
    }
    g.pending_notifications = pending_notifications(db);
    return g;
}

} // namespace stemd::storage::sqlite
