#include "storage/sqlite_rows.hpp"

#include "storage/sqlite_outbox.hpp"

#include <sqlite3.h>

#include <utility>

namespace stemd::storage::sqlite {

namespace {

[[noreturn]] void corrupt(std::string_view what, std::string_view value) {
    throw sqlite_error(SQLITE_CORRUPT, "the job database holds an unknown " + std::string(what) +
                                           " \"" + std::string(value) +
                                           "\"; was it edited by hand or by a newer stemd?");
}

// The status in `column`, read with `parse` (parse_job_status, ...).
template <class Parse>
auto status_column(const statement& s, int column, Parse parse, std::string_view what) {
    const auto text = s.column_text(column);
    const auto parsed = parse(text);
    if (!parsed) {
        corrupt(what, text);
    }
    return *parsed;
}

std::optional<millis> optional_int(const statement& s, int column) {
    if (s.is_null(column)) {
        return std::nullopt;
    }
    return s.column_int(column);
}

} // namespace

std::string sql(std::initializer_list<std::string_view> parts) {
    std::string text;
    for (auto part : parts) {
        text += part;
    }
    return text;
}

const std::string& final_job_states() {
    static const std::string list = [] {
        std::string text;
        for (auto s : job_statuses) {
            if (is_final(s)) {
                text += (text.empty() ? "'" : ", '") + std::string(to_string(s)) + "'";
            }
        }
        return text;
    }();
    return list;
}

void bind_or_null(statement& s, int index, std::string_view value) {
    if (value.empty()) {
        s.bind_null(index);
    } else {
        s.bind(index, value);
    }
}

void bind_or_null(statement& s, int index, std::optional<millis> value) {
    if (value) {
        s.bind(index, *value);
    } else {
        s.bind_null(index);
    }
}

job_record read_job(const statement& s) {
    job_record j;
    j.id = s.column_text(0);
    j.task_id = s.column_text(1);
    j.conversion_id = s.column_text(2);
    j.status = status_column(s, 3, parse_job_status, "job status");
    j.created_at = s.column_int(4);
    j.updated_at = s.column_int(5);
    j.eta = s.column_optional_double(6);
    j.credit_estimate = s.column_optional_double(7);
    j.conversion_cost = s.column_optional_double(8);
    j.conversion_duration = s.column_optional_double(9);
    j.error = s.column_text(10);
    j.upstream_status = s.column_text(11);
    j.audio_url = s.column_text(12);
    j.audio_file = s.column_text(13);
    j.stems_json = s.column_text(14);
    j.preprocessing_options_json = s.column_text(15);
    j.eco_mode = s.column_int(16) != 0;
    j.next_poll_at = optional_int(s, 17);
    j.poll_attempts = static_cast<int>(s.column_int(18));
    j.poll_owner = s.column_text(19);
    j.poll_until = s.column_int(20);
    return j;
}

file_record read_file(const statement& s) {
    file_record f;
    f.id = s.column_int(0);
    f.job_id = s.column_text(1);
    f.name = s.column_text(2);
    f.subdir = s.column_text(3);
    f.url = s.column_text(4);
    f.path = s.column_text(5);
    f.status = status_column(s, 6, parse_file_status, "file status");
    f.bytes = s.column_int(7);
    f.sha256 = s.column_text(8);
    f.attempts = static_cast<int>(s.column_int(9));
    f.error = s.column_text(10);
    f.next_attempt_at = s.column_int(11);
    f.claim_owner = s.column_text(12);
    f.claim_until = s.column_int(13);
    f.link_refreshes = static_cast<int>(s.column_int(14));
    return f;
}

std::vector<file_record> read_files(statement& s) {
    std::vector<file_record> files;
    while (s.step()) {
        files.push_back(read_file(s));
    }
    return files;
}

std::optional<job_record> select_job_by(database& db, std::string_view column,
                                        std::string_view key) {
    if (key.empty()) {
        return std::nullopt;
    }
    statement s(db, sql({"SELECT ", job_columns, " FROM jobs WHERE ", column, " = ?1"}));
    s.bind(1, key);
    if (!s.step()) {
        return std::nullopt;
    }
    return read_job(s);
}

std::optional<job_record> select_job(database& db, std::string_view id) {
    return select_job_by(db, "id", id);
}

std::optional<job_record> select_job_by_key(database& db, std::string_view key) {
    for (auto column : {"id", "task_id", "conversion_id"}) {
        if (auto job = select_job_by(db, column, key)) {
            return job;
        }
    }
    return std::nullopt;
}

std::vector<file_record> select_files(database& db, std::string_view job_id) {
    statement s(
        db, sql({"SELECT ", file_columns, " FROM files WHERE job_id = ?1 ORDER BY subdir, name"}));
    s.bind(1, job_id);
    return read_files(s);
}

std::optional<file_record> select_file(database& db, std::int64_t id) {
    statement s(db, sql({"SELECT ", file_columns, " FROM files WHERE id = ?1"}));
    s.bind(1, id);
    if (!s.step()) {
        return std::nullopt;
    }
    return read_file(s);
}

job_record with_files(database& db, job_record j) {
    j.files = select_files(db, j.id);
    j.notifications = select_notifications(db, j.id);
    return j;
}

job_record reload(database& db, std::string_view id) {
    auto j = select_job(db, id);
    if (!j) {
        throw sqlite_error(SQLITE_INTERNAL, "job " + std::string(id) + " vanished during a write");
    }
    return with_files(db, std::move(*j));
}

std::vector<job_record> read_jobs_with_files(database& db, statement& s) {
    std::vector<job_record> jobs;
    while (s.step()) {
        jobs.push_back(read_job(s));
    }
    for (auto& job : jobs) {
        job = with_files(db, std::move(job));
    }
    return jobs;
}

// The one place a job becomes completed or failed, so the one place its
// outbox event is written, in the same transaction.
void set_job_status(database& db, std::string_view id, job_status status, std::string_view error,
                    millis now) {
    const auto before = select_job(db, id);
    const bool becomes_final = is_final(status) && before && before->status != status;
    statement s(db, R"sql(
UPDATE jobs SET status = ?2, error = ?3, updated_at = ?4,
                next_poll_at = CASE WHEN ?5 THEN NULL ELSE next_poll_at END
WHERE id = ?1
)sql");
    s.bind(1, id).bind(2, to_string(status)).bind(3, error).bind(4, now);
    s.bind(5, is_final(status) ? 1 : 0).exec();
    if (becomes_final)
        write_outbox_events(db, id, now);
}

void touch_job(database& db, std::string_view id, millis now) {
    statement s(db, "UPDATE jobs SET updated_at = ?2 WHERE id = ?1");
    s.bind(1, id).bind(2, now).exec();
}

file_counts count_files(database& db, std::string_view job_id) {
    statement s(db, "SELECT COUNT(*), COALESCE(SUM(status = 'done'), 0), "
                    "COALESCE(SUM(status = 'failed'), 0) FROM files WHERE job_id = ?1");
    s.bind(1, job_id);
    s.step();
    return {s.column_int(0), s.column_int(1), s.column_int(2)};
}

std::string file_failure_reason(const file_record& f) {
    return "file " + file_label(f) + ": " + f.error;
}

std::optional<file_record> first_failed_file(database& db, std::string_view job_id) {
    statement s(db, sql({"SELECT ", file_columns,
                         " FROM files WHERE job_id = ?1 AND status = 'failed' "
                         "ORDER BY subdir, name LIMIT 1"}));
    s.bind(1, job_id);
    if (!s.step()) {
        return std::nullopt;
    }
    return read_file(s);
}

} // namespace stemd::storage::sqlite
