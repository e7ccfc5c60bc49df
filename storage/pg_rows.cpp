#include "storage/pg_rows.hpp"

#include "storage/pg_outbox.hpp"
#include "storage/sqlite_rows.hpp"

#include <unordered_map>
#include <utility>

namespace stemd::storage::pg {

namespace {

[[noreturn]] void corrupt(std::string_view what, std::string_view value) {
    throw pg_error("the job database holds an unknown " + std::string(what) + " \"" +
                       std::string(value) + "\"; was it edited by hand or by a newer stemd?",
                   "XX001", false);
}

// The status in `column`, read with `parse` (parse_job_status, ...).
template <class Parse>
auto status_column(const rows& r, int row, int column, Parse parse, std::string_view what) {
    const auto text = r.text(row, column);
    const auto parsed = parse(text);
    if (!parsed) {
        corrupt(what, text);
    }
    return *parsed;
}

// A nullable integer column, 0 for NULL (as SQLite reads it).
std::int64_t int_or_zero(const rows& r, int row, int column) {
    return r.optional_int64(row, column).value_or(0);
}

} // namespace

// Plain text work, the same for both engines: said once, in sqlite_rows.
std::string sql(std::initializer_list<std::string_view> parts) {
    return sqlite::sql(parts);
}

const std::string& final_job_states() {
    return sqlite::final_job_states();
}

job_record read_job(const rows& r, int row) {
    job_record j;
    j.id = r.text(row, 0);
    j.task_id = r.text(row, 1);
    j.conversion_id = r.text(row, 2);
    j.status = status_column(r, row, 3, parse_job_status, "job status");
    j.created_at = r.int64(row, 4);
    j.updated_at = r.int64(row, 5);
    j.eta = r.optional_real(row, 6);
    j.credit_estimate = r.optional_real(row, 7);
    j.conversion_cost = r.optional_real(row, 8);
    j.conversion_duration = r.optional_real(row, 9);
    j.error = r.text(row, 10);
    j.upstream_status = r.text(row, 11);
    j.audio_url = r.text(row, 12);
    j.audio_file = r.text(row, 13);
    j.stems_json = r.text(row, 14);
    j.preprocessing_options_json = r.text(row, 15);
    j.eco_mode = r.boolean(row, 16);
    j.next_poll_at = r.optional_int64(row, 17);
    j.poll_attempts = static_cast<int>(r.int64(row, 18));
    j.poll_owner = r.text(row, 19);
    j.poll_until = int_or_zero(r, row, 20);
    return j;
}

file_record read_file(const rows& r, int row) {
    file_record f;
    f.id = r.int64(row, 0);
    f.job_id = r.text(row, 1);
    f.name = r.text(row, 2);
    f.subdir = r.text(row, 3);
    f.url = r.text(row, 4);
    f.path = r.text(row, 5);
    f.status = status_column(r, row, 6, parse_file_status, "file status");
    f.bytes = r.int64(row, 7);
    f.sha256 = r.text(row, 8);
    f.attempts = static_cast<int>(r.int64(row, 9));
    f.error = r.text(row, 10);
    f.next_attempt_at = r.int64(row, 11);
    f.claim_owner = r.text(row, 12);
    f.claim_until = int_or_zero(r, row, 13);
    f.link_refreshes = static_cast<int>(r.int64(row, 14));
    return f;
}

std::vector<file_record> read_files(const rows& r) {
    std::vector<file_record> files;
    files.reserve(static_cast<std::size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) {
        files.push_back(read_file(r, i));
    }
    return files;
}

std::optional<job_record> select_job_by(connection& c, std::string_view column,
                                        std::string_view key) {
    if (key.empty()) {
        return std::nullopt;
    }
    const auto r = c.exec(sql({"SELECT ", job_columns, " FROM jobs WHERE ", column, " = $1"}),
                          params().add(key));
    if (r.empty()) {
        return std::nullopt;
    }
    return read_job(r, 0);
}

std::optional<job_record> select_job(connection& c, std::string_view id) {
    return select_job_by(c, "id", id);
}

std::optional<job_record> select_job_by_key(connection& c, std::string_view key) {
    for (auto column : {"id", "task_id", "conversion_id"}) {
        if (auto job = select_job_by(c, column, key)) {
            return job;
        }
    }
    return std::nullopt;
}

std::vector<file_record> select_files(connection& c, std::string_view job_id) {
    return read_files(c.exec(
        sql({"SELECT ", file_columns,
             " FROM files WHERE job_id = $1 ORDER BY subdir COLLATE \"C\", name COLLATE \"C\""}),
        params().add(job_id)));
}

std::optional<file_record> select_file(connection& c, std::int64_t id) {
    const auto r =
        c.exec(sql({"SELECT ", file_columns, " FROM files WHERE id = $1"}), params().add(id));
    if (r.empty()) {
        return std::nullopt;
    }
    return read_file(r, 0);
}

job_record with_files(connection& c, job_record j) {
    j.files = select_files(c, j.id);
    j.notifications = select_notifications(c, j.id);
    return j;
}

job_record reload(connection& c, std::string_view id) {
    auto j = select_job(c, id);
    if (!j) {
        throw pg_error("job " + std::string(id) + " vanished during a write", "XX000", false);
    }
    return with_files(c, std::move(*j));
}

namespace {

// The ids as a PostgreSQL array literal ({"a","b"}), for = ANY($1::text[]).
std::string text_array(const std::vector<job_record>& jobs) {
    std::string out = "{";
    for (const auto& j : jobs) {
        out += out.size() == 1 ? "\"" : ",\"";
        for (char ch : j.id) {
            if (ch == '"' || ch == '\\')
                out += '\\';
            out += ch;
        }
        out += '"';
    }
    return out + "}";
}

} // namespace

void with_files(connection& c, std::vector<job_record>& jobs) {
    if (jobs.empty())
        return;
    // A page of a thousand jobs costs two round trips (and one more per job
    // that has notifications), not two per job.
    const std::string ids = text_array(jobs);
    const auto files =
        read_files(c.exec(sql({"SELECT ", file_columns,
                               " FROM files WHERE job_id = ANY($1::text[]) "
                               "ORDER BY job_id, subdir COLLATE \"C\", name COLLATE \"C\""}),
                          params().add(ids)));
    std::unordered_map<std::string, job_record*> by_id;
    for (auto& j : jobs)
        by_id[j.id] = &j;
    for (const auto& f : files)
        by_id.at(f.job_id)->files.push_back(f);
    const auto notified = c.exec(
        "SELECT DISTINCT job_id FROM outbox WHERE job_id = ANY($1::text[])", params().add(ids));
    for (int i = 0; i < notified.size(); ++i) {
        auto& j = *by_id.at(notified.text(i, 0));
        j.notifications = select_notifications(c, j.id);
    }
}

std::vector<job_record> read_jobs_with_files(connection& c, const rows& r) {
    std::vector<job_record> jobs;
    jobs.reserve(static_cast<std::size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) {
        jobs.push_back(read_job(r, i));
    }
    with_files(c, jobs);
    return jobs;
}

// The one place a job becomes completed or failed, so the one place its
// outbox event is written, in the same transaction.
void set_job_status(connection& c, std::string_view id, job_status status, std::string_view error,
                    millis now) {
    const auto before = select_job(c, id);
    const bool becomes_final = is_final(status) && before && before->status != status;
    c.exec(R"sql(
UPDATE jobs SET status = $2, error = $3, updated_at = $4,
                next_poll_at = CASE WHEN $5::boolean THEN NULL ELSE next_poll_at END
WHERE id = $1
)sql",
           params().add(id).add(to_string(status)).add(error).add(now).add(is_final(status)));
    if (becomes_final) {
        write_outbox_events(c, id, now);
        if (!c.outbox_channels().empty()) {
            c.note_work(); // an event to deliver
        }
    }
}

void touch_job(connection& c, std::string_view id, millis now) {
    c.exec("UPDATE jobs SET updated_at = $2 WHERE id = $1", params().add(id).add(now));
}

file_counts count_files(connection& c, std::string_view job_id) {
    const auto r = c.exec("SELECT COUNT(*), COUNT(CASE WHEN status = 'done' THEN 1 END), "
                          "COUNT(CASE WHEN status = 'failed' THEN 1 END) "
                          "FROM files WHERE job_id = $1",
                          params().add(job_id));
    return {r.int64(0, 0), r.int64(0, 1), r.int64(0, 2)};
}

std::string file_failure_reason(const file_record& f) {
    return sqlite::file_failure_reason(f);
}

std::optional<file_record> first_failed_file(connection& c, std::string_view job_id) {
    const auto r = c.exec(sql({"SELECT ", file_columns,
                               " FROM files WHERE job_id = $1 AND status = 'failed' "
                               "ORDER BY subdir COLLATE \"C\", name COLLATE \"C\" LIMIT 1"}),
                          params().add(job_id));
    if (r.empty()) {
        return std::nullopt;
    }
    return read_file(r, 0);
}

} // namespace stemd::storage::pg
