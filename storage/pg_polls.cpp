#include "storage/pg_polls.hpp"

#include "storage/error.hpp"
#include "storage/pg_connection.hpp"
#include "storage/pg_rows.hpp"

#include <algorithm>

namespace stemd::storage::pg {

namespace {

// Jobs that can be looked up at all: planned, known to MusicGPT, not final.
std::string pollable_jobs() {
    return sql({"next_poll_at IS NOT NULL AND task_id IS NOT NULL AND status NOT IN (",
                final_job_states(), ")"});
}

// Due at $1 (now) and not held by a live claim.
std::string due_condition() {
    return sql({pollable_jobs(), " AND next_poll_at <= $1::bigint"
                                 " AND (poll_owner IS NULL OR poll_until <= $1::bigint)"});
}

// Earliest first; jobs planned for the same time in the order they came.
constexpr std::string_view due_order = " ORDER BY next_poll_at, seq";

// Why the job cannot have a look-up planned (gone, or final); `what` ends
// the sentence for a final job.
std::optional<stemd::error> unplannable(const std::optional<job_record>& job,
                                        std::string_view job_id, std::string_view what) {
    if (!job) {
        return make_error(error::not_found, "job " + std::string(job_id) + " does not exist");
    }
    if (is_final(job->status)) {
        return make_error(error::invalid_transition, "job " + job->id + " is " +
                                                         std::string(to_string(job->status)) +
                                                         ", so " + std::string(what));
    }
    return std::nullopt;
}

std::optional<stemd::error> not_held(const job_record& job, std::string_view owner) {
    if (job.poll_owner == owner) {
        return std::nullopt;
    }
    return make_error(error::claim_lost,
                      "the status look-up of job " + job.id + " is no longer claimed by " +
                          std::string(owner) +
                          (job.poll_owner.empty() ? " (its claim was released)"
                                                  : " (" + job.poll_owner + " took it over)"));
}

} // namespace

result<std::vector<job_record>> jobs_due_for_poll(connection& c, millis now, int limit) {
    const auto r = c.exec(
        sql({"SELECT ", job_columns, " FROM jobs WHERE ", due_condition(), due_order, " LIMIT $2"}),
        params().add(now).add(std::clamp(limit, 1, max_list)));
    return read_jobs_with_files(c, r);
}

result<std::optional<millis>> next_poll_due(connection& c) {
    // Same filter as jobs_due_for_poll, so the poller never wakes for a job
    // it would not be handed; a claimed look-up not before its claim ends.
    const auto r = c.exec(sql({"SELECT MIN(CASE WHEN poll_owner IS NULL THEN next_poll_at "
                               "ELSE GREATEST(next_poll_at, poll_until) END) FROM jobs WHERE ",
                               pollable_jobs()}));
    if (r.empty() || r.is_null(0, 0)) {
        return std::optional<millis>();
    }
    return std::optional<millis>(r.int64(0, 0));
}

result<std::vector<job_record>> claim_polls(connection& c, std::string_view owner, millis now,
                                            millis lease, int limit) {
    // Selected and claimed in one statement; SKIP LOCKED lets another
    // process claim the next due jobs meanwhile instead of waiting.
    const std::string claim =
        sql({"WITH due AS (SELECT id FROM jobs WHERE ", due_condition(), due_order,
             " LIMIT $2 FOR UPDATE SKIP LOCKED), claimed AS (UPDATE jobs SET poll_owner = $3, "
             "poll_until = $4 FROM due WHERE jobs.id = due.id RETURNING jobs.*) SELECT ",
             job_columns, " FROM claimed", due_order});
    transaction tx(c);
    const auto r = c.exec(
        claim, params().add(now).add(std::clamp(limit, 1, max_list)).add(owner).add(now + lease));
    auto jobs = read_jobs_with_files(c, r);
    tx.commit();
    return jobs;
}

result<void> schedule_poll(connection& c, std::string_view job_id, std::optional<millis> at) {
    transaction tx(c);
    const auto job = select_job(c, job_id);
    if (auto refused = unplannable(job, job_id, "no status look-up is planned")) {
        return *refused;
    }
    c.exec("UPDATE jobs SET next_poll_at = $2 WHERE id = $1", params().add(job_id).add(at));
    if (at) {
        c.note_work();
    }
    tx.commit();
    return {};
}

result<void> poll_again(connection& c, std::string_view job_id, std::string_view owner, millis at) {
    transaction tx(c);
    const auto job = select_job(c, job_id);
    if (auto refused = unplannable(job, job_id, "it is not looked up again")) {
        return *refused;
    }
    if (auto lost = not_held(*job, owner)) {
        return *lost;
    }
    c.exec("UPDATE jobs SET next_poll_at = $2, poll_attempts = poll_attempts + 1, "
           "poll_owner = NULL, poll_until = NULL WHERE id = $1",
           params().add(job_id).add(at));
    tx.commit();
    return {};
}

result<void> release_poll(connection& c, std::string_view job_id, std::string_view owner,
                          std::optional<millis> replan) {
    transaction tx(c);
    const auto job = select_job(c, job_id);
    if (!job) {
        return make_error(error::not_found, "job " + std::string(job_id) + " does not exist");
    }
    if (auto lost = not_held(*job, owner)) {
        return *lost;
    }
    // A job that became final meanwhile keeps having no plan.
    c.exec("UPDATE jobs SET poll_owner = NULL, poll_until = NULL, "
           "next_poll_at = CASE WHEN $2::bigint IS NULL OR next_poll_at IS NULL "
           "THEN next_poll_at ELSE $2::bigint END WHERE id = $1",
           params().add(job_id).add(is_final(job->status) ? std::nullopt : replan));
    tx.commit();
    return {};
}

result<job_record> fail_awaiting_links(connection& c, std::string_view job_id,
                                       std::string_view owner, std::string_view reason) {
    const millis now = now_millis();
    transaction tx(c);
    const auto job = select_job(c, job_id);
    if (auto refused = unplannable(job, job_id, "no file of it waits for a fresh link")) {
        return *refused;
    }
    if (auto lost = not_held(*job, owner)) {
        return *lost;
    }
    const auto failed_files =
        c.exec("UPDATE files SET status = 'failed', error = $2 "
               "WHERE job_id = $1 AND status = 'pending' AND next_attempt_at = $3",
               params().add(job_id).add(reason).add(awaiting_fresh_link));
    if (failed_files.affected() == 0) {
        return make_error(error::invalid_transition,
                          "no file of job " + job->id + " waits for a fresh link");
    }
    c.exec("UPDATE jobs SET next_poll_at = NULL, poll_owner = NULL, poll_until = NULL "
           "WHERE id = $1",
           params().add(job_id));
    const auto failed = first_failed_file(c, job_id);
    set_job_status(c, job_id, job_status::failed, file_failure_reason(*failed), now);
    auto result = reload(c, job_id);
    tx.commit();
    return result;
}

int renew_poll_claims(connection& c, std::string_view owner, millis until) {
    const auto r = c.exec("UPDATE jobs SET poll_until = $2 WHERE poll_owner = $1",
                          params().add(owner).add(until));
    return static_cast<int>(r.affected());
}

int release_poll_claims(connection& c) {
    const auto r =
        c.exec("UPDATE jobs SET poll_owner = NULL, poll_until = NULL WHERE poll_owner IS NOT NULL");
    return static_cast<int>(r.affected());
}

int release_poll_claims(connection& c, std::string_view owner) {
    const auto r = c.exec("UPDATE jobs SET poll_owner = NULL, poll_until = NULL "
                          "WHERE poll_owner = $1",
                          params().add(owner));
    return static_cast<int>(r.affected());
}

} // namespace stemd::storage::pg
