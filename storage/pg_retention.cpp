#include "storage/pg_retention.hpp"

#include "storage/pg_connection.hpp"
#include "storage/pg_deliveries.hpp"
#include "storage/pg_rows.hpp"

#include <algorithm>
#include <string>

namespace stemd::storage::pg {

namespace {

// The tables of the store whose size compact() reports.
constexpr std::string_view store_tables =
    "'jobs', 'files', 'outbox', 'events', 'webhook_deliveries', 'budgets'";

// Final, unchanged since before the cutoff, and held by no claim: a
// download still finishing (its job failed meanwhile) or a look-up in
// flight keeps its job until it ends. Ids compare byte by byte (COLLATE
// "C"), as SQLite compares them, so paging by id never skips a job
// whatever the database's locale.
std::string prunable_query() {
    return sql({"SELECT ", job_columns, " FROM jobs WHERE status IN (", final_job_states(),
                ") AND updated_at < $1 AND id COLLATE \"C\" > $2 AND poll_owner IS NULL AND NOT "
                "EXISTS (SELECT 1 FROM files WHERE files.job_id = jobs.id AND files.claim_owner "
                "IS NOT NULL) ORDER BY id COLLATE \"C\" LIMIT $3"});
}

std::vector<job_record> select_prunable(connection& c, millis cutoff, std::string_view after_id,
                                        int limit) {
    const auto r = c.exec(prunable_query(),
                          params().add(cutoff).add(after_id).add(std::clamp(limit, 1, max_list)));
    return read_jobs_with_files(c, r);
}

// A PostgreSQL array literal of text values: {"a","b"}, each quoted with
// its quotes and backslashes escaped, so any id goes in as one parameter.
std::string text_array(const std::vector<job_record>& jobs) {
    std::string out = "{";
    for (const auto& job : jobs) {
        if (out.size() > 1)
            out += ',';
        out += '"';
        for (const char ch : job.id) {
            if (ch == '"' || ch == '\\')
                out += '\\';
            out += ch;
        }
        out += '"';
    }
    out += '}';
    return out;
}

} // namespace

result<std::vector<job_record>> prunable_jobs(connection& c, millis cutoff,
                                              std::string_view after_id, int limit) {
    return select_prunable(c, cutoff, after_id, limit);
}

result<prune_batch> prune_final_jobs(connection& c, millis cutoff, millis now, int limit) {
    transaction tx(c);
    prune_batch batch;
    batch.jobs = select_prunable(c, cutoff, "", limit);
    if (!batch.jobs.empty()) {
        // SERIALIZABLE: a claim or a change another process makes to one
        // of these jobs meanwhile fails this transaction (40001), which
        // then runs again and no longer selects it.
        const auto ids = text_array(batch.jobs);
        c.exec("DELETE FROM files WHERE job_id = ANY($1::text[])", params().add(ids));
        c.exec("DELETE FROM jobs WHERE id = ANY($1::text[])", params().add(ids));
    }
    batch.deliveries = forget_deliveries(c, now);
    tx.commit();
    return batch;
}

// PostgreSQL gives the space of deleted rows back by itself: autovacuum
// marks it free for new rows of the same table (and truncates empty pages
// at a table's end), on its own schedule, outside our transactions; VACUUM
// cannot run inside a transaction block, and VACUUM FULL would lock the
// tables every instance is using. So compact() gives nothing back itself:
// it reports the store's tables' size in pages of block_size, the same
// before and after, with no free list (PostgreSQL keeps none it would
// count here), so the caller reports 0 pages freed, which is what this
// call did. `pages` has no meaning here.
result<compaction> compact(connection& c, int /*pages*/) {
    const auto r = c.exec(sql({"SELECT current_setting('block_size')::bigint, "
                               "COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint "
                               "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                               "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND "
                               "c.relname IN (",
                               store_tables, ")"}));
    compaction out;
    out.page_size = r.int64(0, 0);
    out.pages_before = out.page_size > 0 ? r.int64(0, 1) / out.page_size : 0;
    out.pages_after = out.pages_before;
    return out;
}

} // namespace stemd::storage::pg
