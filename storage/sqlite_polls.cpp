#include "storage/sqlite_polls.hpp"

#include "storage/error.hpp"
#include "storage/sqlite_rows.hpp"

#include <algorithm>

namespace stemd::storage::sqlite {

namespace {

// Jobs that can be looked up at all: planned, known to MusicGPT, not final.
std::string pollable_jobs() {
    return sql({"next_poll_at IS NOT NULL AND task_id IS NOT NULL AND status NOT IN (",
                final_job_states(), ")"});
}

// Due at ?1 (now) and not held by a live claim, earliest first, at most ?2.
std::string due_query(std::string_view columns) {
    return sql({"SELECT ", columns, " FROM jobs WHERE ", pollable_jobs(),
                " AND next_poll_at <= ?1 AND (poll_owner IS NULL OR poll_until <= ?1)"
                " ORDER BY next_poll_at, rowid LIMIT ?2"});
}

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

result<std::vector<job_record>> jobs_due_for_poll(database& db, millis now, int limit) {
    statement s(db, due_query(job_columns));
    s.bind(1, now).bind(2, std::clamp(limit, 1, max_list));
    return read_jobs_with_files(db, s);
}

result<std::optional<millis>> next_poll_due(database& db) {
    // Same filter as jobs_due_for_poll, so the poller never wakes for a job
    // it would not be handed; a claimed look-up not before its claim ends.
    statement s(db, sql({"SELECT MIN(CASE WHEN poll_owner IS NULL THEN next_poll_at "
                         "ELSE MAX(next_poll_at, poll_until) END) FROM jobs WHERE ",
                         pollable_jobs()}));
    if (!s.step() || s.is_null(0)) {
        return std::optional<millis>();
    }
    return std::optional<millis>(s.column_int(0));
}

result<std::vector<job_record>> claim_polls(database& db, std::string_view owner, millis now,
                                            millis lease, int limit) {
    transaction tx(db);
    statement due(db, due_query("id"));
    due.bind(1, now).bind(2, std::clamp(limit, 1, max_list));
    std::vector<std::string> ids;
    while (due.step()) {
        ids.push_back(due.column_text(0));
    }
    statement take(db, "UPDATE jobs SET poll_owner = ?2, poll_until = ?3 WHERE id = ?1");
    std::vector<job_record> jobs;
    for (const auto& id : ids) {
        take.bind(1, id).bind(2, owner).bind(3, now + lease).exec();
        take.reset();
        jobs.push_back(reload(db, id));
    }
    tx.commit();
    return jobs;
}

result<void> schedule_poll(database& db, std::string_view job_id, std::optional<millis> at) {
    transaction tx(db);
    const auto job = select_job(db, job_id);
    if (auto refused = unplannable(job, job_id, "no status look-up is planned")) {
        return *refused;
    }
    statement s(db, "UPDATE jobs SET next_poll_at = ?2 WHERE id = ?1");
    s.bind(1, job_id);
    bind_or_null(s, 2, at);
    s.exec();
    tx.commit();
    return {};
}

result<void> poll_again(database& db, std::string_view job_id, std::string_view owner, millis at) {
    transaction tx(db);
    const auto job = select_job(db, job_id);
    if (auto refused = unplannable(job, job_id, "it is not looked up again")) {
        return *refused;
    }
    if (auto lost = not_held(*job, owner)) {
        return *lost;
    }
    statement s(db, "UPDATE jobs SET next_poll_at = ?2, poll_attempts = poll_attempts + 1, "
                    "poll_owner = NULL, poll_until = NULL WHERE id = ?1");
    s.bind(1, job_id).bind(2, at).exec();
    tx.commit();
    return {};
}

result<void> release_poll(database& db, std::string_view job_id, std::string_view owner,
                          std::optional<millis> replan) {
    transaction tx(db);
    const auto job = select_job(db, job_id);
    if (!job) {
        return make_error(error::not_found, "job " + std::string(job_id) + " does not exist");
    }
    if (auto lost = not_held(*job, owner)) {
        return *lost;
    }
    // A job that became final meanwhile keeps having no plan.
    statement s(db, "UPDATE jobs SET poll_owner = NULL, poll_until = NULL, "
                    "next_poll_at = CASE WHEN ?2 IS NULL OR next_poll_at IS NULL "
                    "THEN next_poll_at ELSE ?2 END WHERE id = ?1");
    s.bind(1, job_id);
    bind_or_null(s, 2, is_final(job->status) ? std::nullopt : replan);
    s.exec();
    tx.commit();
    return {};
}

result<job_record> fail_awaiting_links(database& db, std::string_view job_id,
                                       std::string_view owner, std::string_view reason) {
    const millis now = now_millis();
    transaction tx(db);
    const auto job = select_job(db, job_id);
    if (auto refused = unplannable(job, job_id, "no file of it waits for a fresh link")) {
        return *refused;
    }
    if (auto lost = not_held(*job, owner)) {
        return *lost;
    }
    statement f(db, "UPDATE files SET status = 'failed', error = ?2 "
                    "WHERE job_id = ?1 AND status = 'pending' AND next_attempt_at = ?3");
    f.bind(1, job_id).bind(2, reason).bind(3, awaiting_fresh_link).exec();
    if (db.changes() == 0) {
        return make_error(error::invalid_transition,
                          "no file of job " + job->id + " waits for a fresh link");
    }
    statement j(db, "UPDATE jobs SET next_poll_at = NULL, poll_owner = NULL, poll_until = NULL "
                    "WHERE id = ?1");
    j.bind(1, job_id).exec();
    const auto failed = first_failed_file(db, job_id);
    set_job_status(db, job_id, job_status::failed, file_failure_reason(*failed), now);
    auto result = reload(db, job_id);
    tx.commit();
    return result;
}

int renew_poll_claims(database& db, std::string_view owner, millis until) {
    statement s(db, "UPDATE jobs SET poll_until = ?2 WHERE poll_owner = ?1");
    s.bind(1, owner).bind(2, until).exec();
    return db.changes();
}

int release_poll_claims(database& db) {
    db.execute("UPDATE jobs SET poll_owner = NULL, poll_until = NULL WHERE poll_owner IS NOT NULL");
    return db.changes();
}

int release_poll_claims(database& db, std::string_view owner) {
    statement s(db, "UPDATE jobs SET poll_owner = NULL, poll_until = NULL WHERE poll_owner = ?1");
    s.bind(1, owner).exec();
    return db.changes();
}

} // namespace stemd::storage::sqlite
