#include "storage/pg_reports.hpp"

#include "storage/error.hpp"
#include "storage/pg_connection.hpp"
#include "storage/pg_jobs.hpp"
#include "storage/pg_rows.hpp"

#include <stdexcept>

namespace stemd::storage::pg {

namespace {

constexpr std::string_view no_links_reason = "MusicGPT reported success but sent no stem links";
constexpr std::string_view upstream_failed_reason = "MusicGPT reported the job failed";

// Inserts the links as pending files. A link for a file that already
// exists (a repeated delivery) refreshes its URL and path unless the file is
// done: signed links expire, so the newest one is the one to use. A failed
// file starts over, since a new delivery is a new chance; a file waiting for
// a retry may be tried at once with the fresh link. Returns whether any
// file was inserted or refreshed (work for the downloaders).
bool upsert_files(connection& c, std::string_view job_id, const musicgpt::report& r,
                  const std::vector<std::string>& paths, millis now) {
    constexpr std::string_view upsert = R"sql(
INSERT INTO files (job_id, name, subdir, url, path, status, next_attempt_at)
VALUES ($1, $2, $3, $4, $5, 'pending', $6)
ON CONFLICT (job_id, subdir, name) DO UPDATE SET
    url = excluded.url,
    path = excluded.path,
    status = CASE WHEN files.status = 'failed' THEN 'pending' ELSE files.status END,
    attempts = CASE WHEN files.status = 'failed' THEN 0 ELSE files.attempts END,
    link_refreshes = CASE WHEN files.status = 'failed' THEN 0 ELSE files.link_refreshes END,
    error = CASE WHEN files.status = 'failed' THEN '' ELSE files.error END,
    next_attempt_at = CASE WHEN files.status = 'downloading' THEN files.next_attempt_at
                           ELSE LEAST(files.next_attempt_at, excluded.next_attempt_at) END
WHERE files.status <> 'done'
)sql";
    bool changed = false;
    for (std::size_t i = 0; i < r.links.size(); ++i) {
        const auto& link = r.links[i];
        const auto done = c.exec(upsert, params()
                                             .add(job_id)
                                             .add(link.name)
                                             .add(link.subdir)
                                             .add(link.url)
                                             .add(paths[i])
                                             .add(now));
        changed = changed || done.affected() > 0;
    }
    return changed;
}

// After a success delivery: where the job stands given all its files.
void settle_after_success(connection& c, std::string_view job_id, millis now) {
    const auto counts = count_files(c, job_id);
    if (counts.total == 0) {
        set_job_status(c, job_id, job_status::failed, no_links_reason, now);
    } else if (counts.done == counts.total) {
        set_job_status(c, job_id, job_status::completed, "", now);
    } else if (auto failed = first_failed_file(c, job_id)) {
        set_job_status(c, job_id, job_status::failed, file_failure_reason(*failed), now);
    } else {
        set_job_status(c, job_id, job_status::downloading, "", now);
    }
}

// Links have come: the job needs no more status look-ups, unless one of
// its files still waits for a fresh link that this report did not carry;
// then the look-up did not settle it and keeps counting as such.
void stop_polling_unless_awaiting_links(connection& c, std::string_view job_id) {
    c.exec(R"sql(
UPDATE jobs SET
    poll_attempts = CASE WHEN w.awaiting THEN poll_attempts ELSE 0 END,
    next_poll_at = CASE WHEN w.awaiting THEN next_poll_at ELSE NULL END
FROM (SELECT EXISTS (SELECT 1 FROM files
                     WHERE files.job_id = $1 AND files.status = 'pending'
                       AND files.next_attempt_at = $2) AS awaiting) AS w
WHERE id = $1
)sql",
           params().add(job_id).add(awaiting_fresh_link));
}

void record_facts(connection& c, std::string_view job_id, const musicgpt::report& r, millis now) {
    c.exec(R"sql(
UPDATE jobs SET
    upstream_status = CASE WHEN $2::text = '' THEN upstream_status ELSE $2::text END,
    conversion_cost = COALESCE($3::double precision, conversion_cost),
    conversion_duration = COALESCE($4::double precision, conversion_duration),
    updated_at = $5
WHERE id = $1
)sql",
           params()
               .add(job_id)
               .add(r.upstream_status)
               .add(r.conversion_cost)
               .add(r.conversion_duration)
               .add(now));
}

} // namespace

result<job_record> apply(connection& c, std::string_view job_id, const musicgpt::report& r,
                         const std::vector<std::string>& paths) {
    if (paths.size() != r.links.size()) {
        throw std::invalid_argument("store::apply: " + std::to_string(paths.size()) +
                                    " paths for " + std::to_string(r.links.size()) + " links");
    }
    const millis now = now_millis();
    transaction tx(c);
    const auto job = select_job(c, job_id);
    if (!job) {
        return make_error(error::not_found,
                          "no job " + std::string(job_id) + " to apply a report to");
    }
    if (job->status == job_status::completed) {
        return with_files(c, *job);
    }
    if (auto assigned = assign_ids(c, *job, r.task_id, r.conversion_id, now); !assigned) {
        return assigned.error();
    }
    record_facts(c, job_id, r, now);
    switch (r.what) {
    case musicgpt::report::state::pending:
        break;
    case musicgpt::report::state::failed:
        set_job_status(c, job_id, job_status::failed,
                       r.message.empty() ? upstream_failed_reason : r.message, now);
        break;
    case musicgpt::report::state::succeeded:
        if (upsert_files(c, job_id, r, paths, now)) {
            c.note_work(); // files to download
        }
        settle_after_success(c, job_id, now);
        stop_polling_unless_awaiting_links(c, job_id);
        break;
    }
    auto result = reload(c, job_id);
    tx.commit();
    return result;
}

} // namespace stemd::storage::pg
