#include "storage/pg_activity.hpp"

#include "storage/pg_connection.hpp"

namespace stemd::storage::pg {

result<activity> activity_since(connection& c, millis since) {
    // Both counts use an index (files_runnable, jobs_by_status) and run a
    // few times a minute: cheap next to the work they describe.
    const auto r = c.exec(R"sql(
SELECT (SELECT COUNT(*) FROM files WHERE status = 'downloading'),
       (SELECT COUNT(*) FROM jobs WHERE status = 'completed' AND updated_at >= $1),
       (SELECT COUNT(*) FROM jobs WHERE status = 'failed' AND updated_at >= $1)
)sql",
                          params().add(since));
    activity a;
    if (!r.empty()) {
        a.files_downloading = r.int64(0, 0);
        a.jobs_completed = r.int64(0, 1);
        a.jobs_failed = r.int64(0, 2);
    }
    return a;
}

} // namespace stemd::storage::pg
