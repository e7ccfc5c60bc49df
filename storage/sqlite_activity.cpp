#include "storage/sqlite_activity.hpp"

#include "storage/database.hpp"

namespace stemd::storage::sqlite {

result<activity> activity_since(database& db, millis since) {
    // Both counts use an index (files_runnable, jobs_by_status) and run a
    // few times a minute: cheap next to the work they describe.
    statement s(db, R"sql(
SELECT (SELECT COUNT(*) FROM files WHERE status = 'downloading'),
       (SELECT COUNT(*) FROM jobs WHERE status = 'completed' AND updated_at >= ?1),
       (SELECT COUNT(*) FROM jobs WHERE status = 'failed' AND updated_at >= ?1)
)sql");
    s.bind(1, since);
    activity a;
    if (s.step()) {
        a.files_downloading = s.column_int(0);
        a.jobs_completed = s.column_int(1);
        a.jobs_failed = s.column_int(2);
    }
    return a;
}

} // namespace stemd::storage::sqlite
