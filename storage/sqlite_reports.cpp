#include "storage/sqlite_reports.hpp"

#include "storage/error.hpp"
#include "storage/sqlite_jobs.hpp"
#include "storage/sqlite_rows.hpp"

#include <stdexcept>

namespace stemd::storage::sqlite {

namespace {

constexpr std::string_view no_links_reason = "MusicGPT reported success but sent no stem links";
constexpr std::string_view upstream_failed_reason = "MusicGPT reported the job failed";

// Inserts the links as pending files. A link for a file that already
// exists (a repeated delivery) refreshes its URL and path unless the file is
// done: signed links expire, so the newest one is the one to use. A failed
// file starts over, since a new delivery is a new chance; a file waiting for
// a retry may be tried at once with the fresh link.
void upsert_files(database& db, std::string_view job_id, const musicgpt::report& r,
                  const std::vector<std::string>& paths, millis now) {
    statement s(db, R"sql(
INSERT INTO files (job_id, name, subdir, url, path, status, next_attempt_at)
VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)
ON CONFLICT (job_id, subdir, name) DO UPDATE SET
    url = excluded.url,
    path = excluded.path,
    status = CASE WHEN files.status = 'failed' THEN 'pending' ELSE files.status END,
    attempts = CASE WHEN files.status = 'failed' THEN 0 ELSE files.attempts END,
    link_refreshes = CASE WHEN files.status = 'failed' THEN 0 ELSE files.link_refreshes END,
    error = CASE WHEN files.status = 'failed' THEN '' ELSE files.error END,
    next_attempt_at = CASE WHEN files.status = 'downloading' THEN files.next_attempt_at
                           ELSE MIN(files.next_attempt_at, excluded.next_attempt_at) END
WHERE files.status <> 'done'
)sql");
    for (std::size_t i = 0; i < r.links.size(); ++i) {
        const auto& link = r.links[i];
        s.bind(1, job_id).bind(2, link.name).bind(3, link.subdir).bind(4, link.url);
        s.bind(5, paths[i]).bind(6, now);
        s.exec();
        s.reset();
    }
}

// After a success delivery: where the job stands given all its files.
void settle_after_success(database& db, std::string_view job_id, millis now) {
    const auto counts = count_files(db, job_id);
    if (counts.total == 0) {
        set_job_status(db, job_id, job_status::failed, no_links_reason, now);
    } else if (counts.done == counts.total) {
        set_job_status(db, job_id, job_status::completed, "", now);
    } else if (auto failed = first_failed_file(db, job_id)) {
        set_job_status(db, job_id, job_status::failed, file_failure_reason(*failed), now);
    } else {
        set_job_status(db, job_id, job_status::downloading, "", now);
    }
}

// Links have come: the job needs no more status look-ups, unless one of
// its files still waits for a fresh link that this report did not carry;
// then the look-up did not settle it and keeps counting as such.
void stop_polling_unless_awaiting_links(database& db, std::string_view job_id) {
    statement s(db, R"sql(
UPDATE jobs SET
    poll_attempts = CASE WHEN awaiting THEN poll_attempts ELSE 0 END,
    next_poll_at = CASE WHEN awaiting THEN next_poll_at ELSE NULL END
FROM (SELECT EXISTS (SELECT 1 FROM files
                     WHERE files.job_id = ?1 AND files.status = 'pending'
                       AND files.next_attempt_at = ?2) AS awaiting)
WHERE id = ?1
)sql");
    s.bind(1, job_id).bind(2, awaiting_fresh_link).exec();
}

void record_facts(database& db, std::string_view job_id, const musicgpt::report& r, millis now) {
    statement facts(db, R"sql(
UPDATE jobs SET
    upstream_status = CASE WHEN ?2 = '' THEN upstream_status ELSE ?2 END,
    conversion_cost = COALESCE(?3, conversion_cost),
    conversion_duration = COALESCE(?4, conversion_duration),
    updated_at = ?5
WHERE id = ?1
)sql");
    facts.bind(1, job_id).bind(2, r.upstream_status).bind(3, r.conversion_cost);
    facts.bind(4, r.conversion_duration).bind(5, now).exec();
}

} // namespace

result<job_record> apply(database& db, std::string_view job_id, const musicgpt::report& r,
                         const std::vector<std::string>& paths) {
    if (paths.size() != r.links.size()) {
        throw std::invalid_argument("store::apply: " + std::to_string(paths.size()) +
                                    " paths for " + std::to_string(r.links.size()) + " links");
    }
    const millis now = now_millis();
    transaction tx(db);
    const auto job = select_job(db, job_id);
    if (!job) {
        return make_error(error::not_found,
                          "no job " + std::string(job_id) + " to apply a report to");
    }
    if (job->status == job_status::completed) {
        return with_files(db, *job);
    }
    if (auto assigned = assign_ids(db, *job, r.task_id, r.conversion_id, now); !assigned) {
        return assigned.error();
    }
    record_facts(db, job_id, r, now);
    switch (r.what) {
    case musicgpt::report::state::pending:
        break;
    case musicgpt::report::state::failed:
        set_job_status(db, job_id, job_status::failed,
                       r.message.empty() ? upstream_failed_reason : r.message, now);
        break;
    case musicgpt::report::state::succeeded:
        upsert_files(db, job_id, r, paths, now);
        settle_after_success(db, job_id, now);
        stop_polling_unless_awaiting_links(db, job_id);
        break;
    }
    auto result = reload(db, job_id);
    tx.commit();
    return result;
}

} // namespace stemd::storage::sqlite
