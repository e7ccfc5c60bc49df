#include "storage/sqlite_files.hpp"

#include "storage/error.hpp"
#include "storage/sqlite_rows.hpp"

#include <algorithm>
#include <utility>

namespace stemd::storage::sqlite {

namespace {

// A file owner ?3 may not take at ?1 (now): someone else holds it, or
// anyone holds another file with the same destination. Used on the `files`
// row at hand; with ?3 = '' every live claim counts.
constexpr std::string_view unclaimable = R"sql(
    (files.claim_owner IS NOT NULL AND files.claim_until > ?1 AND files.claim_owner <> ?3)
 OR EXISTS (SELECT 1 FROM files AS other
            WHERE other.path = files.path AND other.id <> files.id
              AND other.status = 'downloading' AND other.claim_owner IS NOT NULL
              AND other.claim_until > ?1))sql";

// Files handed out at ?1 (now), oldest first, at most ?2.
std::string runnable_query() {
    return sql({"SELECT ", file_columns, R"sql(
FROM files JOIN jobs ON jobs.id = files.job_id
WHERE files.status IN ('pending', 'downloading') AND files.next_attempt_at <= ?1
  AND jobs.status NOT IN ()sql",
                final_job_states(), ") AND NOT (", unclaimable, ")\nORDER BY files.id LIMIT ?2"});
}

// Claims one file for `owner` unless it is unclaimable at `now` (the
// owner's own live claim may be taken again: a resumed download); the job
// moves to downloading if it was not yet. True when the claim was taken.
bool take(database& db, std::int64_t file_id, std::string_view owner, millis now, millis lease) {
    statement s(db, sql({"UPDATE files SET status = 'downloading', attempts = attempts + 1, "
                         "claim_owner = ?3, claim_until = ?4 WHERE id = ?2 AND NOT (",
                         unclaimable, ")"}));
    s.bind(1, now).bind(2, file_id).bind(3, owner).bind(4, now + lease).exec();
    if (db.changes() == 0) {
        return false;
    }
    statement j(db, R"sql(
UPDATE jobs SET
    status = CASE WHEN status IN ('submitting', 'submitted') THEN 'downloading' ELSE status END,
    updated_at = ?2
WHERE id = (SELECT job_id FROM files WHERE id = ?1)
)sql");
    j.bind(1, file_id).bind(2, now_millis()).exec();
    return true;
}

std::string file_text(const file_record& f) {
    return "file " + std::to_string(f.id) + " of job " + f.job_id;
}

// The file `owner` is downloading: not_found, invalid_transition when it is
// not downloading, claim_lost when the claim is not `owner`'s any more.
result<file_record> held_file(database& db, std::int64_t file_id, std::string_view owner,
                              std::string_view purpose) {
    auto file = select_file(db, file_id);
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

// The end of a download: new status, error and due time; the claim goes.
void finish(database& db, std::int64_t file_id, std::string_view status, std::string_view reason,
            millis next_attempt_at) {
    statement s(db, "UPDATE files SET status = ?2, error = ?3, next_attempt_at = ?4, "
                    "claim_owner = NULL, claim_until = NULL WHERE id = ?1");
    s.bind(1, file_id).bind(2, status).bind(3, reason).bind(4, next_attempt_at).exec();
}

// held_file, then finish with `status`; nullopt keeps the due time.
result<file_record> end_download(database& db, std::int64_t file_id, std::string_view owner,
                                 std::string_view purpose, std::string_view status,
                                 std::string_view reason, std::optional<millis> next_attempt_at) {
    auto file = held_file(db, file_id, owner, purpose);
    if (file) {
        finish(db, file_id, status, reason, next_attempt_at.value_or(file->next_attempt_at));
    }
    return file;
}

// Moves the job to `status` (with `reason`) when `moves`, else only marks it
// updated; then reads it back with its files.
job_record settle_job(database& db, std::string_view job_id, bool moves, job_status status,
                      std::string_view reason, millis now) {
    if (moves) {
        set_job_status(db, job_id, status, reason, now);
    } else {
        touch_job(db, job_id, now);
    }
    return reload(db, job_id);
}

} // namespace

result<std::vector<file_record>> runnable_files(database& db, millis now, int limit) {
    statement s(db, runnable_query());
    s.bind(1, now).bind(2, std::clamp(limit, 1, max_list)).bind(3, std::string_view());
    return read_files(s);
}

result<std::optional<millis>> next_wakeup(database& db) {
    // Same job filter as runnable_files: a file that can never be handed
    // out must not wake the scheduler over and over. A claimed file can be
    // taken over when its claim runs out.
    statement s(db, sql({R"sql(
SELECT MIN(CASE WHEN files.status = 'downloading' AND files.claim_owner IS NOT NULL
                THEN files.claim_until ELSE files.next_attempt_at END)
FROM files JOIN jobs ON jobs.id = files.job_id
WHERE files.status IN ('pending', 'downloading') AND jobs.status NOT IN ()sql",
                         final_job_states(), ")"}));
    if (!s.step() || s.is_null(0)) {
        return std::optional<millis>();
    }
    return std::optional<millis>(s.column_int(0));
}

result<std::vector<file_record>> claim_files(database& db, std::string_view owner, millis now,
                                             millis lease, int limit) {
    limit = std::clamp(limit, 1, max_list);
    transaction tx(db);
    // More candidates than wanted: some may share a destination with one
    // taken just before them.
    auto candidates = runnable_files(db, now, max_list).value();
    std::vector<file_record> taken;
    for (const auto& f : candidates) {
        if (static_cast<int>(taken.size()) == limit) {
            break;
        }
        if (take(db, f.id, owner, now, lease)) {
            taken.push_back(*select_file(db, f.id));
        }
    }
    tx.commit();
    return taken;
}

result<file_record> claim_file(database& db, std::int64_t file_id, std::string_view owner,
                               millis now, millis lease) {
    transaction tx(db);
    const auto file = select_file(db, file_id);
    if (!file) {
        return make_error(error::not_found, "no file " + std::to_string(file_id) + " to start");
    }
    if (!is_runnable(file->status)) {
        return make_error(error::invalid_transition, file_text(*file) + " is " +
                                                         std::string(to_string(file->status)) +
                                                         ", so it cannot be started");
    }
    const auto job = select_job(db, file->job_id);
    if (job && is_final(job->status)) {
        return make_error(error::invalid_transition, "job " + job->id + " is " +
                                                         std::string(to_string(job->status)) +
                                                         ", so its files are not downloaded");
    }
    if (!take(db, file_id, owner, now, lease)) {
        return make_error(error::claim_lost,
                          file_text(*file) + " or another file with its destination " + file->path +
                              " is being downloaded by someone else");
    }
    auto result = select_file(db, file_id);
    tx.commit();
    return std::move(*result);
}

int renew_file_claims(database& db, std::string_view owner, millis until) {
    statement s(db, "UPDATE files SET claim_until = ?2 "
                    "WHERE claim_owner = ?1 AND status = 'downloading'");
    s.bind(1, owner).bind(2, until).exec();
    return db.changes();
}

int release_file_claims(database& db) {
    db.execute("UPDATE files SET claim_owner = NULL, claim_until = NULL "
               "WHERE claim_owner IS NOT NULL");
    return db.changes();
}

int release_file_claims(database& db, std::string_view owner) {
    statement s(db, "UPDATE files SET claim_owner = NULL, claim_until = NULL "
                    "WHERE claim_owner = ?1");
    s.bind(1, owner).exec();
    return db.changes();
}

result<job_record> file_done(database& db, std::int64_t file_id, std::string_view owner,
                             std::string_view path, std::int64_t bytes, std::string_view sha256) {
    const millis now = now_millis();
    transaction tx(db);
    const auto file = end_download(db, file_id, owner, "to finish", "done", "", std::nullopt);
    if (!file) {
        return file.error();
    }
    statement s(db, "UPDATE files SET path = ?2, bytes = ?3, sha256 = ?4 WHERE id = ?1");
    s.bind(1, file_id).bind(2, path).bind(3, bytes).bind(4, sha256).exec();
    const auto counts = count_files(db, file->job_id);
    auto result =
        settle_job(db, file->job_id, counts.done == counts.total, job_status::completed, "", now);
    tx.commit();
    return result;
}

result<void> file_retry(database& db, std::int64_t file_id, std::string_view owner,
                        std::string_view reason, millis next_attempt_at) {
    const millis now = now_millis();
    transaction tx(db);
    const auto file =
        end_download(db, file_id, owner, "to retry", "pending", reason, next_attempt_at);
    if (!file) {
        return file.error();
    }
    touch_job(db, file->job_id, now);
    tx.commit();
    return {};
}

result<job_record> file_failed(database& db, std::int64_t file_id, std::string_view owner,
                               std::string_view reason) {
    const millis now = now_millis();
    transaction tx(db);
    auto file = end_download(db, file_id, owner, "to fail", "failed", reason, std::nullopt);
    if (!file) {
        return file.error();
    }
    file->error = reason;
    const auto job = select_job(db, file->job_id);
    // The first failure is the one worth reporting; later ones of the
    // same job only repeat that it is broken.
    auto result = settle_job(db, file->job_id, job && job->status != job_status::failed,
                             job_status::failed, file_failure_reason(*file), now);
    tx.commit();
    return result;
}

result<job_record> file_link_expired(database& db, std::int64_t file_id, std::string_view owner,
                                     std::string_view reason, millis now) {
    transaction tx(db);
    const auto file = end_download(db, file_id, owner, "to wait for a fresh link", "pending",
                                   reason, awaiting_fresh_link);
    if (!file) {
        return file.error();
    }
    statement f(db, "UPDATE files SET link_refreshes = link_refreshes + 1 WHERE id = ?1");
    f.bind(1, file_id).exec();
    statement j(db, R"sql(
UPDATE jobs SET next_poll_at = MIN(COALESCE(next_poll_at, ?2), ?2), updated_at = ?2
WHERE id = ?1
)sql");
    j.bind(1, file->job_id).bind(2, now).exec();
    auto result = reload(db, file->job_id);
    tx.commit();
    return result;
}

} // namespace stemd::storage::sqlite
