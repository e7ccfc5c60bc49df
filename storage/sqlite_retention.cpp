#include "storage/sqlite_retention.hpp"

#include "storage/database.hpp"
#include "storage/sqlite_deliveries.hpp"
#include "storage/sqlite_rows.hpp"

#include <algorithm>
#include <string>

namespace stemd::storage::sqlite {

namespace {

// SQLite's PRAGMA auto_vacuum value for INCREMENTAL.
constexpr int auto_vacuum_incremental = 2;

// Final, unchanged since before the cutoff, and held by no claim: a
// download still finishing (its job failed meanwhile) or a look-up in
// flight keeps its job until it ends.
std::string prunable_query() {
    return sql({"SELECT ", job_columns, " FROM jobs WHERE status IN (", final_job_states(),
                ") AND updated_at < ?1 AND id > ?2 AND poll_owner IS NULL AND NOT EXISTS "
                "(SELECT 1 FROM files WHERE files.job_id = jobs.id AND files.claim_owner IS NOT "
                "NULL) ORDER BY id LIMIT ?3"});
}

std::vector<job_record> select_prunable(database& db, millis cutoff, std::string_view after_id,
                                        int limit) {
    statement s(db, prunable_query());
    s.bind(1, cutoff).bind(2, after_id).bind(3, std::clamp(limit, 1, max_list));
    return read_jobs_with_files(db, s);
}

std::int64_t pragma_int(database& db, std::string_view name) {
    statement s(db, sql({"PRAGMA ", name}));
    return s.step() ? s.column_int(0) : 0;
}

} // namespace

result<std::vector<job_record>> prunable_jobs(database& db, millis cutoff,
                                              std::string_view after_id, int limit) {
    return select_prunable(db, cutoff, after_id, limit);
}

result<prune_batch> prune_final_jobs(database& db, millis cutoff, millis now, int limit) {
    transaction tx(db);
    prune_batch batch;
    batch.jobs = select_prunable(db, cutoff, "", limit);
    statement files(db, "DELETE FROM files WHERE job_id = ?1");
    statement jobs(db, "DELETE FROM jobs WHERE id = ?1");
    for (const auto& job : batch.jobs) {
        files.bind(1, job.id).exec();
        files.reset();
        jobs.bind(1, job.id).exec();
        jobs.reset();
    }
    batch.deliveries = forget_deliveries(db, now);
    tx.commit();
    return batch;
}

result<compaction> compact(database& db, int pages) {
    compaction c;
    c.page_size = pragma_int(db, "page_size");
    c.pages_before = pragma_int(db, "page_count");
    c.free_before = pragma_int(db, "freelist_count");
    if (c.free_before > 0) {
        // PRAGMA arguments cannot be bound; an int cannot inject anything.
        db.execute("PRAGMA incremental_vacuum(" + std::to_string(std::max(pages, 1)) + ")");
        // The file itself shrinks when the WAL is copied back; a passive
        // checkpoint never waits for readers.
        db.execute("PRAGMA wal_checkpoint(PASSIVE)");
    }
    c.pages_after = pragma_int(db, "page_count");
    c.free_after = pragma_int(db, "freelist_count");
    return c;
}

result<bool> use_incremental_vacuum(database& db) {
    if (pragma_int(db, "auto_vacuum") == auto_vacuum_incremental) {
        return false;
    }
    // The mode of an existing database changes only when VACUUM rebuilds it.
    db.execute("PRAGMA auto_vacuum=INCREMENTAL");
    db.execute("VACUUM");
    if (pragma_int(db, "auto_vacuum") != auto_vacuum_incremental) {
        throw sqlite_error(1, "SQLite kept auto_vacuum off after VACUUM on the job database; "
                              "check the disk space beside it (VACUUM needs about the "
                              "database's size) and restart");
    }
    return true;
}

} // namespace stemd::storage::sqlite
