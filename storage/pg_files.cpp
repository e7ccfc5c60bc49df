#include "storage/pg_files.hpp"

#include "storage/error.hpp"
#include "storage/pg_connection.hpp"
#include "storage/pg_rows.hpp"

#include <algorithm>
#include <utility>

namespace stemd::storage::pg {

namespace {

// A file `may_resume` (an SQL text expression: an owner whose own live
// claim may be taken again, or '' for none) may not take at $1 (now):
// someone else holds it, or anyone holds another file with the same
// destination. Used on the `files` row at hand. Under SERIALIZABLE two claimers that each miss the
// other's claim on the same path read what the other writes, so one of them fails with 40001 and
// runs again (seeing the claim then).
std::string unclaimable(std::string_view may_resume) {
    return sql({R"sql(
    (files.claim_owner IS NOT NULL AND files.claim_until > $1::bigint
     AND files.claim_owner <> )sql",
                may_resume, R"sql()
 OR EXISTS (SELECT 1 FROM files AS other
            WHERE other.path = files.path AND other.id <> files.id
              AND other.status = 'downloading' AND other.claim_owner IS NOT NULL
              AND other.claim_until > $1::bigint))sql"});
}

// The condition of a file claim_files hands out at $1: not held by any
// live claim (a resumed download is claimed by id, with claim_file).
std::string runnable_condition() {
    return sql({R"sql(files.status IN ('pending', 'downloading') AND files.next_attempt_at <= $1
  AND jobs.status NOT IN ()sql",
                final_job_states(), ") AND NOT (", unclaimable("''"), ")"});
}

// Claims up to $2 runnable files for $3 until $4, in one statement: the
// first runnable file of each destination path (two files of one batch
// must not write the same path either), locked with SKIP LOCKED so that
// concurrent claimers pass each other's candidates by instead of waiting;
// their jobs move to downloading ($5: the time they are marked updated).
std::string claim_query() {
    return sql({R"sql(
WITH runnable AS (
    SELECT files.id, files.path FROM files JOIN jobs ON jobs.id = files.job_id
    WHERE )sql",
                runnable_condition(), R"sql(
), firsts AS (
    SELECT MIN(id) AS id FROM runnable GROUP BY path
), picked AS (
    SELECT files.id FROM files WHERE files.id IN (SELECT id FROM firsts)
    ORDER BY files.id LIMIT $2 FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE files SET status = 'downloading', attempts = files.attempts + 1,
                     claim_owner = $3, claim_until = $4
    FROM picked WHERE files.id = picked.id
    RETURNING files.*
), moved AS (
    UPDATE jobs SET
        status = CASE WHEN status IN ('submitting', 'submitted') THEN 'downloading'
                      ELSE status END,
        updated_at = $5
    WHERE id IN (SELECT job_id FROM claimed)
)
SELECT )sql",
                file_columns, " FROM claimed AS files ORDER BY files.id"});
}

// Claims one file for `owner` unless it is unclaimable at `now` (the
// owner's own live claim may be taken again: a resumed download); the job
// moves to downloading if it was not yet. True when the claim was taken.
bool take(connection& c, std::int64_t file_id, std::string_view owner, millis now, millis lease) {
    const auto taken =
        c.exec(sql({"UPDATE files SET status = 'downloading', attempts = attempts + 1, "
                    "claim_owner = $3, claim_until = $4 WHERE id = $2 AND NOT (",
                    unclaimable("$3::text"), ")"}),
               params().add(now).add(file_id).add(owner).add(now + lease));
    if (taken.affected() == 0) {
        return false;
    }
    c.exec(R"sql(
UPDATE jobs SET
    status = CASE WHEN status IN ('submitting', 'submitted') THEN 'downloading' ELSE status END,
    updated_at = $2
WHERE id = (SELECT job_id FROM files WHERE id = $1)
)sql",
           params().add(file_id).add(now_millis()));
    return true;
}

std::string file_text(const file_record& f) {
    return "file " + std::to_string(f.id) + " of job " + f.job_id;
}

// The file `owner` is downloading: not_found, invalid_transition when it is
// not downloading, claim_lost when the claim is not `owner`'s any more.
result<file_record> held_file(connection& c, std::int64_t file_id, std::string_view owner,
                              std::string_view purpose) {
    auto file = select_file(c, file_id);
    if (!file) {
        return make_error(error::not_found,
                          "no file " + std::to_string(file_id) + " " + std::string(purpose));
    }
    if (file->status != file_status::downloading) {
        return make_error(error::invalid_transition, file_text(*file) + " is " +
                                                         std::string(to_string(file->status)) +
                                                         ", not downloading");
    }
    if (file->claim_owner != owner) {
        return make_error(error::claim_lost,
                          file_text(*file) + " is no longer claimed by " + std::string(owner) +
                              (file->claim_owner.empty()
                                   ? " (its claim was released)"
                                   : " (" + file->claim_owner + " took it over)") +
                              "; this download's outcome is dropped");
    }
    return std::move(*file);
}

// held_file, then the end of the download: new status, error and due time
// (nullopt keeps it); the claim goes.
result<file_record> end_download(connection& c, std::int64_t file_id, std::string_view owner,
                                 std::string_view purpose, std::string_view status,
                                 std::string_view reason, std::optional<millis> next_attempt_at) {
    auto file = held_file(c, file_id, owner, purpose);
    if (file) {
        c.exec("UPDATE files SET status = $2, error = $3, next_attempt_at = $4, "
               "claim_owner = NULL, claim_until = NULL WHERE id = $1",
               params().add(file_id).add(status).add(reason).add(
                   next_attempt_at.value_or(file->next_attempt_at)));
    }
    return file;
}

// Moves the job to `status` (with `reason`) when `moves`, else only marks it
// updated; then reads it back with its files.
job_record settle_job(connection& c, std::string_view job_id, bool moves, job_status status,
                      std::string_view reason, millis now) {
    if (moves) {
        set_job_status(c, job_id, status, reason, now);
    } else {
        touch_job(c, job_id, now);
    }
    return reload(c, job_id);
}

} // namespace

result<std::vector<file_record>> runnable_files(connection& c, millis now, int limit) {
    const auto r = c.exec(
        sql({"SELECT ", file_columns, " FROM files JOIN jobs ON jobs.id = files.job_id WHERE ",
             runnable_condition(), " ORDER BY files.id LIMIT $2"}),
        params().add(now).add(std::clamp(limit, 1, max_list)));
    return read_files(r);
}

result<std::optional<millis>> next_wakeup(connection& c) {
    // Same job filter as runnable_files: a file that can never be handed
    // out must not wake the scheduler over and over. A claimed file can be
    // taken over when its claim runs out.
    const auto r = c.exec(sql({R"sql(
SELECT MIN(CASE WHEN files.status = 'downloading' AND files.claim_owner IS NOT NULL
                THEN files.claim_until ELSE files.next_attempt_at END)
FROM files JOIN jobs ON jobs.id = files.job_id
WHERE files.status IN ('pending', 'downloading') AND jobs.status NOT IN ()sql",
                               final_job_states(), ")"}));
    if (r.empty() || r.is_null(0, 0)) {
        return std::optional<millis>();
    }
    return std::optional<millis>(r.int64(0, 0));
}

result<std::vector<file_record>> claim_files(connection& c, std::string_view owner, millis now,
                                             millis lease, int limit) {
    transaction tx(c);
    const auto r = c.exec(claim_query(), params()
                                             .add(now)
                                             .add(std::clamp(limit, 1, max_list))
                                             .add(owner)
                                             .add(now + lease)
                                             .add(now_millis()));
    auto taken = read_files(r);
    tx.commit();
    return taken;
}

result<file_record> claim_file(connection& c, std::int64_t file_id, std::string_view owner,
                               millis now, millis lease) {
    transaction tx(c);
    const auto file = select_file(c, file_id);
    if (!file) {
        return make_error(error::not_found, "no file " + std::to_string(file_id) + " to start");
    }
    if (!is_runnable(file->status)) {
        return make_error(error::invalid_transition, file_text(*file) + " is " +
                                                         std::string(to_string(file->status)) +
                                                         ", so it cannot be started");
    }
    const auto job = select_job(c, file->job_id);
    if (job && is_final(job->status)) {
        return make_error(error::invalid_transition, "job " + job->id + " is " +
                                                         std::string(to_string(job->status)) +
                                                         ", so its files are not downloaded");
    }
    if (!take(c, file_id, owner, now, lease)) {
        return make_error(error::claim_lost,
                          file_text(*file) + " or another file with its destination " + file->path +
                              " is being downloaded by someone else");
    }
    auto result = select_file(c, file_id);
    tx.commit();
    return std::move(*result);
}

int renew_file_claims(connection& c, std::string_view owner, millis until) {
    const auto r = c.exec("UPDATE files SET claim_until = $2 "
                          "WHERE claim_owner = $1 AND status = 'downloading'",
                          params().add(owner).add(until));
    return static_cast<int>(r.affected());
}

int release_file_claims(connection& c) {
    const auto r = c.exec("UPDATE files SET claim_owner = NULL, claim_until = NULL "
                          "WHERE claim_owner IS NOT NULL");
    return static_cast<int>(r.affected());
}

int release_file_claims(connection& c, std::string_view owner) {
    const auto r = c.exec("UPDATE files SET claim_owner = NULL, claim_until = NULL "
                          "WHERE claim_owner = $1",
                          params().add(owner));
    return static_cast<int>(r.affected());
}

result<job_record> file_done(connection& c, std::int64_t file_id, std::string_view owner,
                             std::string_view path, std::int64_t bytes, std::string_view sha256) {
    const millis now = now_millis();
    transaction tx(c);
    const auto file = end_download(c, file_id, owner, "to finish", "done", "", std::nullopt);
    if (!file) {
        return file.error();
    }
    c.exec("UPDATE files SET path = $2, bytes = $3, sha256 = $4 WHERE id = $1",
           params().add(file_id).add(path).add(bytes).add(sha256));
    const auto counts = count_files(c, file->job_id);
    auto result =
        settle_job(c, file->job_id, counts.done == counts.total, job_status::completed, "", now);
    tx.commit();
    return result;
}

result<void> file_retry(connection& c, std::int64_t file_id, std::string_view owner,
                        std::string_view reason, millis next_attempt_at) {
    const millis now = now_millis();
    transaction tx(c);
    const auto file =
        end_download(c, file_id, owner, "to retry", "pending", reason, next_attempt_at);
    if (!file) {
        return file.error();
    }
    touch_job(c, file->job_id, now);
    c.note_work();
    tx.commit();
    return {};
}

result<job_record> file_failed(connection& c, std::int64_t file_id, std::string_view owner,
                               std::string_view reason) {
    const millis now = now_millis();
    transaction tx(c);
    auto file = end_download(c, file_id, owner, "to fail", "failed", reason, std::nullopt);
    if (!file) {
        return file.error();
    }
    file->error = reason;
    const auto job = select_job(c, file->job_id);
    // The first failure is the one worth reporting; later ones of the
    // same job only repeat that it is broken.
    auto result = settle_job(c, file->job_id, job && job->status != job_status::failed,
                             job_status::failed, file_failure_reason(*file), now);
    tx.commit();
    return result;
}

result<job_record> file_link_expired(connection& c, std::int64_t file_id, std::string_view owner,
                                     std::string_view reason, millis now) {
    transaction tx(c);
    const auto file = end_download(c, file_id, owner, "to wait for a fresh link", "pending", reason,
                                   awaiting_fresh_link);
    if (!file) {
        return file.error();
    }
    c.exec("UPDATE files SET link_refreshes = link_refreshes + 1 WHERE id = $1",
           params().add(file_id));
    c.exec("UPDATE jobs SET next_poll_at = LEAST(COALESCE(next_poll_at, $2::bigint), $2::bigint), "
           "updated_at = $2 WHERE id = $1",
           params().add(file->job_id).add(now));
    auto result = reload(c, file->job_id);
    // The look-up that brings the fresh link is due now.
    c.note_work();
    tx.commit();
    return result;
}

} // namespace stemd::storage::pg
