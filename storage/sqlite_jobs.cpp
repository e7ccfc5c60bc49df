#include "storage/sqlite_jobs.hpp"

#include "common/crypto.hpp"
#include "storage/error.hpp"
#include "storage/sqlite_outbox.hpp"
#include "storage/sqlite_rows.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace stemd::storage::sqlite {

namespace {

// "j" and 16 hex digits.
std::string random_job_id() {
    return "j" + random_token_hex(8);
}

// "job X is S, <consequence>".
stemd::error job_refuses(const job_record& job, std::string_view consequence) {
    return make_error(error::invalid_transition, "job " + job.id + " is " +
                                                     std::string(to_string(job.status)) + ", " +
                                                     std::string(consequence));
}

// The job `job_id`; not_found ("no job X <purpose>") when there is none.
result<job_record> existing_job(database& db, std::string_view job_id, std::string_view purpose) {
    auto job = select_job(db, job_id);
    if (!job) {
        return make_error(error::not_found,
                          "no job " + std::string(job_id) + " " + std::string(purpose));
    }
    return std::move(*job);
}

// The job `job_id` while it is still submitting; else as job_refuses says.
result<job_record> submitting_job(database& db, std::string_view job_id, std::string_view purpose,
                                  std::string_view consequence) {
    auto job = existing_job(db, job_id, purpose);
    if (job && job->status != job_status::submitting) {
        return job_refuses(*job, consequence);
    }
    return job;
}

// A failed job with files: its unfinished files start over, unclaimed.
void retry_files(database& db, const job_record& job, const file_counts& counts, millis now) {
    statement f(db, R"sql(
UPDATE files SET status = 'pending', attempts = 0, link_refreshes = 0, error = '',
                 next_attempt_at = ?2, claim_owner = NULL, claim_until = NULL
WHERE job_id = ?1 AND status <> 'done'
)sql");
    f.bind(1, job.id).bind(2, now).exec();
    statement j(db, "UPDATE jobs SET poll_attempts = 0, next_poll_at = NULL WHERE id = ?1");
    j.bind(1, job.id).exec();
    set_job_status(db, job.id,
                   counts.done == counts.total ? job_status::completed : job_status::downloading,
                   "", now);
}

} // namespace

result<void> assign_ids(database& db, const job_record& job, std::string_view task_id,
                        std::string_view conversion_id, millis now) {
    struct wanted_id {
        std::string_view column;
        std::string_view wanted;
        const std::string& current;
    };
    const wanted_id ids[] = {{"task_id", task_id, job.task_id},
                             {"conversion_id", conversion_id, job.conversion_id}};
    for (const auto& c : ids) {
        if (c.wanted.empty() || c.wanted == c.current) {
            continue;
        }
        const std::string column(c.column);
        if (!c.current.empty()) {
            return make_error(error::conflict, "job " + job.id + " already has " + column + " " +
                                                   c.current + ", not " + std::string(c.wanted) +
                                                   "; the report belongs to another job");
        }
        if (auto owner = select_job_by(db, column, c.wanted); owner && owner->id != job.id) {
            return make_error(error::conflict, column + " " + std::string(c.wanted) +
                                                   " already belongs to job " + owner->id +
                                                   ", not " + job.id);
        }
        statement s(db, "UPDATE jobs SET " + column + " = ?2, updated_at = ?3 WHERE id = ?1");
        s.bind(1, job.id).bind(2, c.wanted).bind(3, now).exec();
    }
    return {};
}

result<job_record> create_job(database& db, const new_job& j) {
    const millis now = now_millis();
    const std::string id = random_job_id();
    transaction tx(db);
    statement s(db, R"sql(
INSERT INTO jobs (id, token_hash, status, created_at, updated_at, audio_url, audio_file,
                  stems_json, preprocessing_options_json, eco_mode)
VALUES (?1, ?2, 'submitting', ?3, ?3, ?4, ?5, ?6, ?7, ?8)
)sql");
    s.bind(1, id);
    bind_or_null(s, 2, j.token_hash);
    s.bind(3, now).bind(4, j.audio_url).bind(5, j.audio_file).bind(6, j.stems_json);
    s.bind(7, j.preprocessing_options_json).bind(8, j.eco_mode ? 1 : 0);
    s.exec();
    auto job = reload(db, id);
    tx.commit();
    return job;
}

result<void> mark_submitted(database& db, std::string_view job_id, std::string_view task_id,
                            std::string_view conversion_id, std::optional<double> eta,
                            std::optional<double> credit_estimate, std::string_view upstream_status,
                            std::optional<millis> poll_at) {
    const millis now = now_millis();
    transaction tx(db);
    const auto job =
        submitting_job(db, job_id, "to mark submitted", "so it cannot be marked submitted");
    if (!job) {
        return job.error();
    }
    if (auto assigned = assign_ids(db, *job, task_id, conversion_id, now); !assigned) {
        return assigned.error();
    }
    statement s(db, R"sql(
UPDATE jobs SET status = 'submitted', eta = ?2, credit_estimate = ?3, upstream_status = ?4,
                updated_at = ?5, next_poll_at = ?6, poll_attempts = 0
WHERE id = ?1
)sql");
    s.bind(1, job_id).bind(2, eta).bind(3, credit_estimate).bind(4, upstream_status);
    s.bind(5, now);
    bind_or_null(s, 6, poll_at);
    s.exec();
    tx.commit();
    return {};
}

result<void> mark_failed(database& db, std::string_view job_id, std::string_view reason) {
    const millis now = now_millis();
    transaction tx(db);
    const auto job = existing_job(db, job_id, "to mark failed");
    if (!job) {
        return job.error();
    }
    if (is_final(job->status)) {
        return make_error(error::invalid_transition, "job " + job->id + " is already " +
                                                         std::string(to_string(job->status)) +
                                                         ", so it cannot be marked failed");
    }
    set_job_status(db, job_id, job_status::failed, reason, now);
    tx.commit();
    return {};
}

result<job_record> find(database& db, std::string_view key) {
    if (auto job = select_job_by_key(db, key)) {
        return with_files(db, std::move(*job));
    }
    return make_error(error::not_found, no_job_with_key(key));
}

result<job_record> find_by_token_hash(database& db, std::string_view token_hash) {
    if (auto job = select_job_by(db, "token_hash", token_hash)) {
        return with_files(db, std::move(*job));
    }
    // The hash itself stays out of the message: it identifies a token.
    return make_error(error::not_found, "no job has that webhook token");
}

result<std::string> token_hash(database& db, std::string_view job_id) {
    statement s(db, "SELECT token_hash FROM jobs WHERE id = ?1");
    s.bind(1, job_id);
    if (!s.step()) {
        return make_error(error::not_found, "no job " + std::string(job_id));
    }
    return s.column_text(0);
}

result<std::vector<job_record>> list(database& db, std::optional<job_status> status, int limit,
                                     std::optional<millis> created_since) {
    // ?2 IS NULL: no filter on that column, so one statement serves all four cases.
    statement s(db, sql({"SELECT ", job_columns,
                         " FROM jobs WHERE (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR "
                         "created_at >= ?3) ORDER BY created_at DESC, rowid DESC LIMIT ?1"}));
    s.bind(1, std::clamp(limit, 1, max_list));
    if (status) {
        s.bind(2, to_string(*status));
    } else {
        s.bind_null(2);
    }
    if (created_since) {
        s.bind(3, *created_since);
    } else {
        s.bind_null(3);
    }
    return read_jobs_with_files(db, s);
}

const std::string& page_sql(bool by_status) {
    // Written so that the index range is created_at alone (since ..
    // cursor) and the rowid tie-break only filters the rows of the cursor's
    // own created_at; the index order (created_at, then rowid) is the sort.
    static const std::string where =
        " AND created_at >= ?3 AND created_at <= ?4 AND (created_at < ?4 OR rowid < ?5) "
        "ORDER BY created_at DESC, rowid DESC LIMIT ?1";
    static const std::string any =
        sql({"SELECT ", job_columns, ", rowid FROM jobs WHERE 1", where});
    static const std::string one =
        sql({"SELECT ", job_columns, ", rowid FROM jobs WHERE status = ?2", where});
    return by_status ? one : any;
}

result<job_page> list_page(database& db, const page_query& q) {
    const int limit = std::clamp(q.limit, 1, max_list);
    statement s(db, page_sql(q.status.has_value()));
    s.bind(1, limit + 1); // one more tells whether another page follows
    if (q.status) {
        s.bind(2, to_string(*q.status));
    }
    s.bind(3, q.created_since.value_or(std::numeric_limits<millis>::min()));
    s.bind(4, q.before ? q.before->created_at : std::numeric_limits<millis>::max());
    s.bind(5, q.before ? q.before->rowid : std::numeric_limits<std::int64_t>::max());
    job_page page;
    std::int64_t last_rowid = 0;
    while (s.step()) {
        if (static_cast<int>(page.jobs.size()) == limit) {
            page.next = job_cursor{page.jobs.back().created_at, last_rowid};
            break;
        }
        page.jobs.push_back(read_job(s));
        last_rowid = s.column_int(static_cast<int>(job_column_count));
    }
    for (auto& job : page.jobs) {
        job = with_files(db, std::move(job));
    }
    return page;
}

namespace {

// Whether stemd submitted the job (it has a webhook token), as opposed to
// having adopted it from a webhook.secret delivery.
bool submitted_here(database& db, const job_record& job) {
    auto hash = token_hash(db, job.id);
    return hash && !hash->empty();
}

} // namespace

result<job_record> adopt(database& db, std::string_view task_id, std::string_view conversion_id) {
    if (task_id.empty() && conversion_id.empty()) {
        return make_error(error::not_found,
                          "a report without task_id and conversion_id cannot be matched to a job");
    }
    const millis now = now_millis();
    transaction tx(db);
    auto job = select_job_by(db, "task_id", task_id);
    if (!job) {
        job = select_job_by(db, "conversion_id", conversion_id);
    }
    std::string id;
    if (job && submitted_here(db, *job)) {
        // Only MusicGPT's call to the job's own webhook URL (its token) may
        // change a job stemd submitted; the shared secret is for the others.
        return make_error(error::conflict,
                          "task " + (job->task_id.empty() ? job->conversion_id : job->task_id) +
                              " was submitted by this stemd (job " + job->id +
                              "); MusicGPT posts its result to the job's own webhook URL, so "
                              "this delivery through webhook.secret changes nothing");
    }
    if (job) {
        if (auto assigned = assign_ids(db, *job, task_id, conversion_id, now); !assigned) {
            return assigned.error();
        }
        id = job->id;
    } else {
        statement s(db, R"sql(
INSERT INTO jobs (id, task_id, conversion_id, status, created_at, updated_at)
VALUES (?1, ?2, ?3, 'submitted', ?4, ?4)
)sql");
        id = random_job_id();
        s.bind(1, id);
        bind_or_null(s, 2, task_id);
        bind_or_null(s, 3, conversion_id);
        s.bind(4, now).exec();
    }
    auto result = reload(db, id);
    tx.commit();
    return result;
}

result<std::vector<job_record>> stale_submitting(database& db, millis created_before) {
    statement s(db, sql({"SELECT ", job_columns, R"sql(
FROM jobs WHERE status = 'submitting' AND created_at < ?1
ORDER BY created_at, rowid
)sql"}));
    s.bind(1, created_before);
    std::vector<job_record> jobs;
    while (s.step()) {
        jobs.push_back(read_job(s));
    }
    return jobs;
}

result<std::vector<job_record>> longest_waiting_open_jobs(database& db, int limit) {
    statement s(db, sql({"SELECT ", job_columns, R"sql(
FROM jobs WHERE status IN ('submitting', 'submitted', 'downloading')
ORDER BY CASE status WHEN 'downloading' THEN updated_at ELSE created_at END, rowid
LIMIT ?1
)sql"}));
    s.bind(1, std::clamp(limit, 1, max_list));
    std::vector<job_record> jobs;
    while (s.step()) {
        jobs.push_back(read_job(s));
    }
    return jobs;
}

result<job_record> give_up_submitting(database& db, std::string_view job_id,
                                      std::string_view reason) {
    const millis now = now_millis();
    transaction tx(db);
    const auto job = submitting_job(db, job_id, "to give up on", "no longer submitting");
    if (!job) {
        return job.error();
    }
    set_job_status(db, job_id, job_status::failed, reason, now);
    auto result = reload(db, job_id);
    tx.commit();
    return result;
}

result<job_record> retry(database& db, std::string_view key, millis now) {
    transaction tx(db);
    const auto job = select_job_by_key(db, key);
    if (!job) {
        return make_error(error::not_found, no_job_with_key(key));
    }
    if (job->status != job_status::failed) {
        return job_refuses(*job, "not failed; only a failed job can be retried");
    }
    const auto counts = count_files(db, job->id);
    if (counts.total == 0 && job->task_id.empty()) {
        return make_error(error::invalid_transition,
                          "job " + job->id +
                              " was never accepted by MusicGPT (it has no task_id), so there is "
                              "nothing to retry; submit the audio again");
    }
    if (counts.total == 0) {
        // Nothing to download yet: ask MusicGPT where the job stands.
        statement s(db, R"sql(
UPDATE jobs SET status = 'submitted', error = '', updated_at = ?2, next_poll_at = ?2,
                poll_attempts = 0
WHERE id = ?1
)sql");
        s.bind(1, job->id).bind(2, now).exec();
    } else {
        retry_files(db, *job, counts, now);
    }
    end_failed_events_at_retry(db, job->id);
    auto result = reload(db, job->id);
    tx.commit();
    return result;
}

} // namespace stemd::storage::sqlite
