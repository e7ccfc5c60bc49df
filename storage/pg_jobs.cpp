#include "storage/pg_jobs.hpp"

#include "common/crypto.hpp"
#include "storage/error.hpp"
#include "storage/pg_connection.hpp"
#include "storage/pg_outbox.hpp"
#include "storage/pg_rows.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace stemd::storage::pg {

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
result<job_record> existing_job(connection& c, std::string_view job_id, std::string_view purpose) {
    auto job = select_job(c, job_id);
    if (!job) {
        return make_error(error::not_found,
                          "no job " + std::string(job_id) + " " + std::string(purpose));
    }
    return std::move(*job);
}

// The job `job_id` while it is still submitting; else as job_refuses says.
result<job_record> submitting_job(connection& c, std::string_view job_id, std::string_view purpose,
                                  std::string_view consequence) {
    auto job = existing_job(c, job_id, purpose);
    if (job && job->status != job_status::submitting) {
        return job_refuses(*job, consequence);
    }
    return job;
}

// A failed job with files: its unfinished files start over, unclaimed.
void retry_files(connection& c, const job_record& job, const file_counts& counts, millis now) {
    c.exec(R"sql(
UPDATE files SET status = 'pending', attempts = 0, link_refreshes = 0, error = '',
                 next_attempt_at = $2, claim_owner = NULL, claim_until = NULL
WHERE job_id = $1 AND status <> 'done'
)sql",
           params().add(job.id).add(now));
    c.exec("UPDATE jobs SET poll_attempts = 0, next_poll_at = NULL WHERE id = $1",
           params().add(job.id));
    set_job_status(c, job.id,
                   counts.done == counts.total ? job_status::completed : job_status::downloading,
                   "", now);
}

std::vector<job_record> read_jobs(const rows& r) {
    std::vector<job_record> jobs;
    jobs.reserve(static_cast<std::size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) {
        jobs.push_back(read_job(r, i));
    }
    return jobs;
}

} // namespace

result<void> assign_ids(connection& c, const job_record& job, std::string_view task_id,
                        std::string_view conversion_id, millis now) {
    struct wanted_id {
        std::string_view column;
        std::string_view wanted;
        const std::string& current;
    };
    const wanted_id ids[] = {{"task_id", task_id, job.task_id},
                             {"conversion_id", conversion_id, job.conversion_id}};
    for (const auto& w : ids) {
        if (w.wanted.empty() || w.wanted == w.current) {
            continue;
        }
        const std::string column(w.column);
        if (!w.current.empty()) {
            return make_error(error::conflict, "job " + job.id + " already has " + column + " " +
                                                   w.current + ", not " + std::string(w.wanted) +
                                                   "; the report belongs to another job");
        }
        // SERIALIZABLE: a concurrent transaction giving the id to another
        // job makes one of the two fail with 40001, and its rerun sees the
        // owner here.
        if (auto owner = select_job_by(c, column, w.wanted); owner && owner->id != job.id) {
            return make_error(error::conflict, column + " " + std::string(w.wanted) +
                                                   " already belongs to job " + owner->id +
                                                   ", not " + job.id);
        }
        c.exec("UPDATE jobs SET " + column + " = $2, updated_at = $3 WHERE id = $1",
               params().add(job.id).add(w.wanted).add(now));
    }
    return {};
}

result<job_record> create_job(connection& c, const new_job& j) {
    const millis now = now_millis();
    const std::string id = random_job_id();
    transaction tx(c);
    c.exec(R"sql(
INSERT INTO jobs (id, token_hash, status, created_at, updated_at, audio_url, audio_file,
                  stems_json, preprocessing_options_json, eco_mode)
VALUES ($1, $2, 'submitting', $3, $3, $4, $5, $6, $7, $8)
)sql",
           params()
               .add(id)
               .add_or_null(j.token_hash)
               .add(now)
               .add(j.audio_url)
               .add(j.audio_file)
               .add(j.stems_json)
               .add(j.preprocessing_options_json)
               .add(j.eco_mode));
    auto job = reload(c, id);
    tx.commit();
    return job;
}

result<void> mark_submitted(connection& c, std::string_view job_id, std::string_view task_id,
                            std::string_view conversion_id, std::optional<double> eta,
                            std::optional<double> credit_estimate, std::string_view upstream_status,
                            std::optional<millis> poll_at) {
    const millis now = now_millis();
    transaction tx(c);
    const auto job =
        submitting_job(c, job_id, "to mark submitted", "so it cannot be marked submitted");
    if (!job) {
        return job.error();
    }
    if (auto assigned = assign_ids(c, *job, task_id, conversion_id, now); !assigned) {
        return assigned.error();
    }
    c.exec(R"sql(
UPDATE jobs SET status = 'submitted', eta = $2, credit_estimate = $3, upstream_status = $4,
                updated_at = $5, next_poll_at = $6, poll_attempts = 0
WHERE id = $1
)sql",
           params()
               .add(job_id)
               .add(eta)
               .add(credit_estimate)
               .add(upstream_status)
               .add(now)
               .add(std::optional<std::int64_t>(poll_at)));
    if (poll_at) {
        c.note_work(); // a look-up is planned
    }
    tx.commit();
    return {};
}

result<void> mark_failed(connection& c, std::string_view job_id, std::string_view reason) {
    const millis now = now_millis();
    transaction tx(c);
    const auto job = existing_job(c, job_id, "to mark failed");
    if (!job) {
        return job.error();
    }
    if (is_final(job->status)) {
        return make_error(error::invalid_transition, "job " + job->id + " is already " +
                                                         std::string(to_string(job->status)) +
                                                         ", so it cannot be marked failed");
    }
    set_job_status(c, job_id, job_status::failed, reason, now);
    tx.commit();
    return {};
}

result<job_record> find(connection& c, std::string_view key) {
    if (auto job = select_job_by_key(c, key)) {
        return with_files(c, std::move(*job));
    }
    return make_error(error::not_found, no_job_with_key(key));
}

result<job_record> find_by_token_hash(connection& c, std::string_view token_hash) {
    if (auto job = select_job_by(c, "token_hash", token_hash)) {
        return with_files(c, std::move(*job));
    }
    // The hash itself stays out of the message: it identifies a token.
    return make_error(error::not_found, "no job has that webhook token");
}

result<std::string> token_hash(connection& c, std::string_view job_id) {
    const auto r = c.exec("SELECT token_hash FROM jobs WHERE id = $1", params().add(job_id));
    if (r.empty()) {
        return make_error(error::not_found, "no job " + std::string(job_id));
    }
    return r.text(0, 0);
}

result<std::vector<job_record>> list(connection& c, std::optional<job_status> status, int limit,
                                     std::optional<millis> created_since) {
    // $2 IS NULL: no filter on that column, so one statement serves all four
    // cases (the casts give the parameters their types where NULL has none).
    params p;
    p.add(std::clamp(limit, 1, max_list));
    if (status) {
        p.add(to_string(*status));
    } else {
        p.add_null();
    }
    p.add(std::optional<std::int64_t>(created_since));
    return read_jobs_with_files(
        c, c.exec(sql({"SELECT ", job_columns,
                       " FROM jobs WHERE ($2::text IS NULL OR status = $2::text) AND "
                       "($3::bigint IS NULL OR created_at >= $3::bigint) "
                       "ORDER BY created_at DESC, seq DESC LIMIT $1"}),
                  p));
}

const std::string& page_sql(bool by_status) {
    // The row comparison is one range of the (created_at, seq) index (after
    // the status in jobs_by_status), read backwards: the index order is the
    // sort, and the page ends after $1 rows. The status is the last
    // parameter, so that the statement without it numbers $1..$4 only.
    static const std::string where =
        " created_at >= $2 AND (created_at, seq) < ($3::bigint, $4::bigint) "
        "ORDER BY created_at DESC, seq DESC LIMIT $1";
    static const std::string any = sql({"SELECT ", job_columns, ", seq FROM jobs WHERE", where});
    static const std::string one =
        sql({"SELECT ", job_columns, ", seq FROM jobs WHERE status = $5 AND", where});
    return by_status ? one : any;
}

result<job_page> list_page(connection& c, const page_query& q) {
    const int limit = std::clamp(q.limit, 1, max_list);
    params p;
    p.add(limit + 1); // one more tells whether another page follows
    p.add(q.created_since.value_or(std::numeric_limits<millis>::min()));
    p.add(q.before ? q.before->created_at : std::numeric_limits<millis>::max());
    p.add(q.before ? q.before->rowid : std::numeric_limits<std::int64_t>::max());
    if (q.status) {
        p.add(to_string(*q.status));
    }
    const auto r = c.exec(page_sql(q.status.has_value()), p);
    job_page page;
    for (int i = 0; i < r.size(); ++i) {
        if (static_cast<int>(page.jobs.size()) == limit) {
            page.next = job_cursor{page.jobs.back().created_at,
                                   r.int64(i - 1, static_cast<int>(job_column_count))};
            break;
        }
        page.jobs.push_back(read_job(r, i));
    }
    with_files(c, page.jobs);
    return page;
}

namespace {

// Whether stemd submitted the job (it has a webhook token), as opposed to
// having adopted it from a webhook.secret delivery.
bool submitted_here(connection& c, const job_record& job) {
    auto hash = token_hash(c, job.id);
    return hash && !hash->empty();
}

} // namespace

result<job_record> adopt(connection& c, std::string_view task_id, std::string_view conversion_id) {
    if (task_id.empty() && conversion_id.empty()) {
        return make_error(error::not_found,
                          "a report without task_id and conversion_id cannot be matched to a job");
    }
    const millis now = now_millis();
    transaction tx(c);
    auto job = select_job_by(c, "task_id", task_id);
    if (!job) {
        job = select_job_by(c, "conversion_id", conversion_id);
    }
    std::string id;
    if (job && submitted_here(c, *job)) {
        // Only MusicGPT's call to the job's own webhook URL (its token) may
        // change a job stemd submitted; the shared secret is for the others.
        return make_error(error::conflict,
                          "task " + (job->task_id.empty() ? job->conversion_id : job->task_id) +
                              " was submitted by this stemd (job " + job->id +
                              "); MusicGPT posts its result to the job's own webhook URL, so "
                              "this delivery through webhook.secret changes nothing");
    }
    if (job) {
        if (auto assigned = assign_ids(c, *job, task_id, conversion_id, now); !assigned) {
            return assigned.error();
        }
        id = job->id;
    } else {
        id = random_job_id();
        c.exec(R"sql(
INSERT INTO jobs (id, task_id, conversion_id, status, created_at, updated_at)
VALUES ($1, $2, $3, 'submitted', $4, $4)
)sql",
               params().add(id).add_or_null(task_id).add_or_null(conversion_id).add(now));
    }
    auto result = reload(c, id);
    tx.commit();
    return result;
}

result<std::vector<job_record>> stale_submitting(connection& c, millis created_before) {
    return read_jobs(c.exec(sql({"SELECT ", job_columns, R"sql(
FROM jobs WHERE status = 'submitting' AND created_at < $1
ORDER BY created_at, seq
)sql"}),
                            params().add(created_before)));
}

result<std::vector<job_record>> longest_waiting_open_jobs(connection& c, int limit) {
    return read_jobs(c.exec(sql({"SELECT ", job_columns, R"sql(
FROM jobs WHERE status IN ('submitting', 'submitted', 'downloading')
ORDER BY CASE status WHEN 'downloading' THEN updated_at ELSE created_at END, seq
LIMIT $1
)sql"}),
                            params().add(std::clamp(limit, 1, max_list))));
}

result<job_record> give_up_submitting(connection& c, std::string_view job_id,
                                      std::string_view reason) {
    const millis now = now_millis();
    transaction tx(c);
    const auto job = submitting_job(c, job_id, "to give up on", "no longer submitting");
    if (!job) {
        return job.error();
    }
    set_job_status(c, job_id, job_status::failed, reason, now);
    auto result = reload(c, job_id);
    tx.commit();
    return result;
}

result<job_record> retry(connection& c, std::string_view key, millis now) {
    transaction tx(c);
    const auto job = select_job_by_key(c, key);
    if (!job) {
        return make_error(error::not_found, no_job_with_key(key));
    }
    if (job->status != job_status::failed) {
        return job_refuses(*job, "not failed; only a failed job can be retried");
    }
    const auto counts = count_files(c, job->id);
    if (counts.total == 0 && job->task_id.empty()) {
        return make_error(error::invalid_transition,
                          "job " + job->id +
                              " was never accepted by MusicGPT (it has no task_id), so there is "
                              "nothing to retry; submit the audio again");
    }
    if (counts.total == 0) {
        // Nothing to download yet: ask MusicGPT where the job stands.
        c.exec(R"sql(
UPDATE jobs SET status = 'submitted', error = '', updated_at = $2, next_poll_at = $2,
                poll_attempts = 0
WHERE id = $1
)sql",
               params().add(job->id).add(now));
    } else {
        retry_files(c, *job, counts, now);
    }
    end_failed_events_at_retry(c, job->id);
    c.note_work(); // files to fetch again, or a look-up
    auto result = reload(c, job->id);
    tx.commit();
    return result;
}

} // namespace stemd::storage::pg
