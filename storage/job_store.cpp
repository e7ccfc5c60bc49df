#include "storage/job_store.hpp"

#include "storage/database.hpp"

#include <sqlite3.h>
#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <system_error>
#include <utility>

namespace stemd::storage {

namespace {

// Each entry brings the schema from version i to i + 1. Never edit an entry
// that has shipped; append a new one instead.
constexpr std::array<std::string_view, 2> migrations = {
    R"sql(
CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL,
    task_id TEXT UNIQUE,
    conversion_id TEXT UNIQUE,
    token_hash TEXT UNIQUE,
    status TEXT NOT NULL
        CHECK (status IN ('submitting', 'submitted', 'downloading', 'completed', 'failed')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    eta REAL,
    credit_estimate REAL,
    conversion_cost REAL,
    conversion_duration REAL,
    error TEXT NOT NULL DEFAULT '',
    upstream_status TEXT NOT NULL DEFAULT '',
    audio_url TEXT NOT NULL DEFAULT '',
    audio_file TEXT NOT NULL DEFAULT '',
    stems_json TEXT NOT NULL DEFAULT '',
    preprocessing_options_json TEXT NOT NULL DEFAULT '',
    eco_mode INTEGER NOT NULL DEFAULT 0 CHECK (eco_mode IN (0, 1))
);
CREATE INDEX jobs_by_created ON jobs (created_at);
CREATE INDEX jobs_by_status ON jobs (status, created_at);

CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    subdir TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL,
    path TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'downloading', 'done', 'failed')),
    bytes INTEGER NOT NULL DEFAULT 0,
    sha256 TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    UNIQUE (job_id, subdir, name)
);
CREATE INDEX files_runnable ON files (status, next_attempt_at);
)sql",
    // 2: status look-ups (byId) and the webhook replay guard.
    R"sql(
ALTER TABLE jobs ADD COLUMN next_poll_at INTEGER;
ALTER TABLE jobs ADD COLUMN poll_attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_by_next_poll ON jobs (next_poll_at) WHERE next_poll_at IS NOT NULL;
-- A job an older stemd left waiting for its webhook is looked up at the
-- first start: the webhook may have been lost while nothing could poll.
UPDATE jobs SET next_poll_at = updated_at
WHERE status IN ('submitted', 'downloading') AND task_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM files WHERE files.job_id = jobs.id);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries (received_at);
)sql",
};

constexpr int schema_version = static_cast<int>(migrations.size());

constexpr std::string_view job_columns =
    "id, task_id, conversion_id, status, created_at, updated_at, eta, credit_estimate, "
    "conversion_cost, conversion_duration, error, upstream_status, audio_url, audio_file, "
    "stems_json, preprocessing_options_json, eco_mode, next_poll_at, poll_attempts";

constexpr std::string_view file_columns =
    "files.id, files.job_id, files.name, files.subdir, files.url, files.path, files.status, "
    "files.bytes, files.sha256, files.attempts, files.error, files.next_attempt_at";

constexpr std::string_view no_links_reason = "MusicGPT reported success but sent no stem links";
constexpr std::string_view upstream_failed_reason = "MusicGPT reported the job failed";

constexpr int max_list = 1000;

// Delivery ids are kept this long for the replay guard.
constexpr millis delivery_memory = 7LL * 24 * 3600 * 1000;

boost::system::error_code code(error e) noexcept {
    return make_error_code(e);
}

std::string sql(std::initializer_list<std::string_view> parts) {
    std::string text;
    for (auto part : parts) {
        text += part;
    }
    return text;
}

// Empty ids are stored as NULL so that the UNIQUE constraints only compare
// real ids.
void bind_or_null(statement& s, int index, std::string_view value) {
    if (value.empty()) {
        s.bind_null(index);
    } else {
        s.bind(index, value);
    }
}

std::string random_job_id() {
    std::array<unsigned char, 8> bytes{};
    std::size_t filled = 0;
    while (filled < bytes.size()) {
        const auto n = ::getrandom(bytes.data() + filled, bytes.size() - filled, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw std::system_error(errno, std::generic_category(),
                                    "getrandom failed while making a job id");
        }
        filled += static_cast<std::size_t>(n);
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string id = "j";
    for (auto b : bytes) {
        id += hex[b >> 4];
        id += hex[b & 0x0f];
    }
    return id;
}

[[noreturn]] void corrupt(std::string_view what, std::string_view value) {
    throw sqlite_error(SQLITE_CORRUPT, "the job database holds an unknown " + std::string(what) +
                                           " \"" + std::string(value) +
                                           "\"; was it edited by hand or by a newer stemd?");
}

job_record read_job(const statement& s) {
    job_record j;
    j.id = s.column_text(0);
    j.task_id = s.column_text(1);
    j.conversion_id = s.column_text(2);
    const auto status = s.column_text(3);
    const auto parsed = parse_job_status(status);
    if (!parsed) {
        corrupt("job status", status);
    }
    j.status = *parsed;
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
    if (!s.is_null(17)) {
        j.next_poll_at = s.column_int(17);
    }
    j.poll_attempts = static_cast<int>(s.column_int(18));
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
    const auto status = s.column_text(6);
    const auto parsed = parse_file_status(status);
    if (!parsed) {
        corrupt("file status", status);
    }
    f.status = *parsed;
    f.bytes = s.column_int(7);
    f.sha256 = s.column_text(8);
    f.attempts = static_cast<int>(s.column_int(9));
    f.error = s.column_text(10);
    f.next_attempt_at = s.column_int(11);
    return f;
}

std::vector<file_record> select_files(database& db, std::string_view job_id) {
    statement s(
        db, sql({"SELECT ", file_columns, " FROM files WHERE job_id = ?1 ORDER BY subdir, name"}));
    s.bind(1, job_id);
    std::vector<file_record> files;
    while (s.step()) {
        files.push_back(read_file(s));
    }
    return files;
}

// The job whose `column` equals `key`, without its files.
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

job_record with_files(database& db, job_record j) {
    j.files = select_files(db, j.id);
    return j;
}

// Reads a job back after a write; it must exist since the transaction that
// wrote it is still open.
job_record reload(database& db, std::string_view id) {
    auto j = select_job(db, id);
    if (!j) {
        throw sqlite_error(SQLITE_INTERNAL, "job " + std::string(id) + " vanished during a write");
    }
    return with_files(db, std::move(*j));
}

std::optional<file_record> select_file(database& db, std::int64_t id) {
    statement s(db, sql({"SELECT ", file_columns, " FROM files WHERE id = ?1"}));
    s.bind(1, id);
    if (!s.step()) {
        return std::nullopt;
    }
    return read_file(s);
}

bool is_final(job_status s) noexcept {
    return s == job_status::completed || s == job_status::failed;
}

// A job that becomes final is never looked up again.
void set_job_status(database& db, std::string_view id, job_status status, std::string_view error,
                    millis now) {
    statement s(db, R"sql(
UPDATE jobs SET status = ?2, error = ?3, updated_at = ?4,
                next_poll_at = CASE WHEN ?5 THEN NULL ELSE next_poll_at END
WHERE id = ?1
)sql");
    s.bind(1, id).bind(2, to_string(status)).bind(3, error).bind(4, now);
    s.bind(5, is_final(status) ? 1 : 0).exec();
}

void touch_job(database& db, std::string_view id, millis now) {
    statement s(db, "UPDATE jobs SET updated_at = ?2 WHERE id = ?1");
    s.bind(1, id).bind(2, now).exec();
}

std::string file_label(const file_record& f) {
    return f.subdir.empty() ? f.name : f.subdir + "/" + f.name;
}

std::string file_failure_reason(const file_record& f) {
    return "file " + file_label(f) + ": " + f.error;
}

struct file_counts {
    std::int64_t total = 0;
    std::int64_t done = 0;
    std::int64_t failed = 0;
};

file_counts count_files(database& db, std::string_view job_id) {
    statement s(db, "SELECT COUNT(*), COALESCE(SUM(status = 'done'), 0), "
                    "COALESCE(SUM(status = 'failed'), 0) FROM files WHERE job_id = ?1");
    s.bind(1, job_id);
    s.step();
    return {s.column_int(0), s.column_int(1), s.column_int(2)};
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

// Gives the job the upstream ids it does not have yet. Returns why that is
// impossible ("" when it is not): the job already has a different id, or
// another job owns the id.
std::string claim_ids(database& db, const job_record& job, std::string_view task_id,
                      std::string_view conversion_id, millis now) {
    struct claim {
        std::string_view column;
        std::string_view wanted;
        const std::string& current;
    };
    const claim claims[] = {{"task_id", task_id, job.task_id},
                            {"conversion_id", conversion_id, job.conversion_id}};
    for (const auto& c : claims) {
        if (c.wanted.empty() || c.wanted == c.current) {
            continue;
        }
        const std::string column(c.column);
        if (!c.current.empty()) {
            return "job " + job.id + " already has " + column + " " + c.current + ", not " +
                   std::string(c.wanted) + "; the report belongs to another job";
        }
        if (auto owner = select_job_by(db, column, c.wanted); owner && owner->id != job.id) {
            return column + " " + std::string(c.wanted) + " already belongs to job " + owner->id +
                   ", not " + job.id;
        }
        statement s(db, "UPDATE jobs SET " + column + " = ?2, updated_at = ?3 WHERE id = ?1");
        s.bind(1, job.id).bind(2, c.wanted).bind(3, now).exec();
    }
    return {};
}

// Inserts the links as pending files. A link for a file that already
// exists (a repeated delivery) refreshes its URL and path unless the file is
// done: signed links expire, so the newest one is the one to use. A failed
// file starts over, since a new delivery is a new chance; a file waiting for
// a retry may be tried at once with the fresh link.
void upsert_files(database& db, std::string_view job_id, const std::vector<file_link>& links,
                  millis now) {
    statement s(db, R"sql(
INSERT INTO files (job_id, name, subdir, url, path, status, next_attempt_at)
VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)
ON CONFLICT (job_id, subdir, name) DO UPDATE SET
    url = excluded.url,
    path = excluded.path,
    status = CASE WHEN files.status = 'failed' THEN 'pending' ELSE files.status END,
    attempts = CASE WHEN files.status = 'failed' THEN 0 ELSE files.attempts END,
    error = CASE WHEN files.status = 'failed' THEN '' ELSE files.error END,
    next_attempt_at = CASE WHEN files.status = 'downloading' THEN files.next_attempt_at
                           ELSE MIN(files.next_attempt_at, excluded.next_attempt_at) END
WHERE files.status <> 'done'
)sql");
    for (const auto& link : links) {
        s.bind(1, job_id).bind(2, link.name).bind(3, link.subdir).bind(4, link.url);
        s.bind(5, link.path).bind(6, now);
        s.exec();
        s.reset();
    }
}

// After a success delivery: where the job stands given all its files.
void settle_after_success(database& db, std::string_view job_id, millis now) {
    const auto counts = count_files(db, job_id);
    if (counts.total == 0) {
        set_job_status(db, job_id, job_status::failed, no_links_reason, now);
    } else if (counts.done == counts.total) {
        set_job_status(db, job_id, job_status::completed, "", now);
    } else if (auto failed = first_failed_file(db, job_id)) {
        set_job_status(db, job_id, job_status::failed, file_failure_reason(*failed), now);
    } else {
        set_job_status(db, job_id, job_status::downloading, "", now);
    }
}

// Links have come: the job needs no more status look-ups, unless one of
// its files still waits for a fresh link that this report did not carry.
void stop_polling_unless_awaiting_links(database& db, std::string_view job_id) {
    statement s(db, R"sql(
UPDATE jobs SET
    poll_attempts = 0,
    next_poll_at = CASE WHEN EXISTS (SELECT 1 FROM files
                                     WHERE files.job_id = jobs.id AND files.status = 'pending'
                                       AND files.next_attempt_at = ?2)
                        THEN next_poll_at ELSE NULL END
WHERE id = ?1
)sql");
    s.bind(1, job_id).bind(2, awaiting_fresh_link).exec();
}

// Why a job cannot have a look-up planned (gone, or final); nullopt when
// it can.
std::optional<error> pollable(const std::optional<job_record>& job) {
    if (!job) {
        return error::not_found;
    }
    if (is_final(job->status)) {
        return error::invalid_transition;
    }
    return std::nullopt;
}

} // namespace

std::string_view to_string(job_status s) noexcept {
    switch (s) {
    case job_status::submitting:
        return "submitting";
    case job_status::submitted:
        return "submitted";
    case job_status::downloading:
        return "downloading";
    case job_status::completed:
        return "completed";
    case job_status::failed:
        return "failed";
    }
    return "unknown";
}

std::string_view to_string(file_status s) noexcept {
    switch (s) {
    case file_status::pending:
        return "pending";
    case file_status::downloading:
        return "downloading";
    case file_status::done:
        return "done";
    case file_status::failed:
        return "failed";
    }
    return "unknown";
}

std::optional<job_status> parse_job_status(std::string_view s) noexcept {
    for (auto candidate : {job_status::submitting, job_status::submitted, job_status::downloading,
                           job_status::completed, job_status::failed}) {
        if (to_string(candidate) == s) {
            return candidate;
        }
    }
    return std::nullopt;
}

std::optional<file_status> parse_file_status(std::string_view s) noexcept {
    for (auto candidate :
         {file_status::pending, file_status::downloading, file_status::done, file_status::failed}) {
        if (to_string(candidate) == s) {
            return candidate;
        }
    }
    return std::nullopt;
}

millis now_millis() noexcept {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

job_store::job_store(std::unique_ptr<database> db) : db_(std::move(db)) {}
job_store::job_store(job_store&&) noexcept = default;
job_store& job_store::operator=(job_store&&) noexcept = default;
job_store::~job_store() = default;

template <class F> auto job_store::guarded(F&& body) -> decltype(body()) {
    try {
        return body();
    } catch (const sqlite_error& e) {
        // in_place_error: result<bool> would not take an error_code implicitly.
        return decltype(body())(boost::system::in_place_error, fail(error::sqlite, e.what()));
    }
}

boost::system::error_code job_store::fail(error e, std::string message) {
    last_error_ = std::move(message);
    return code(e);
}

boost::system::result<job_store> job_store::open(const std::filesystem::path& file) {
    std::string ignored;
    return open(file, ignored);
}

boost::system::result<job_store> job_store::open(const std::filesystem::path& file,
                                                 std::string& why) {
    const auto too_new = [&](int found) {
        why = "the job database " + file.string() + " has schema version " + std::to_string(found) +
              " but this stemd knows only up to " + std::to_string(schema_version) +
              "; upgrade stemd or point it at another file";
        return code(error::newer_schema);
    };
    try {
        auto db = std::make_unique<database>(file);
        if (const int v = db->user_version(); v > schema_version) {
            return too_new(v);
        } else if (v < schema_version) {
            transaction tx(*db);
            // Another process may have migrated between the read above and
            // taking the write lock.
            const int locked = db->user_version();
            if (locked > schema_version) {
                return too_new(locked);
            }
            for (int step = locked; step < schema_version; ++step) {
                db->execute(migrations[static_cast<std::size_t>(step)]);
            }
            db->set_user_version(schema_version);
            tx.commit();
        }
        return job_store(std::move(db));
    } catch (const sqlite_error& e) {
        why = e.what();
        return code(error::sqlite);
    }
}

boost::system::result<job_record> job_store::create_job(const new_job& j) {
    return guarded([&]() -> boost::system::result<job_record> {
        const millis now = now_millis();
        const std::string id = random_job_id();
        transaction tx(*db_);
        statement s(*db_, R"sql(
INSERT INTO jobs (id, token_hash, status, created_at, updated_at, audio_url, audio_file,
                  stems_json, preprocessing_options_json, eco_mode)
VALUES (?1, ?2, 'submitting', ?3, ?3, ?4, ?5, ?6, ?7, ?8)
)sql");
        s.bind(1, id);
        bind_or_null(s, 2, j.token_hash);
        s.bind(3, now).bind(4, j.audio_url).bind(5, j.audio_file).bind(6, j.stems_json);
        s.bind(7, j.preprocessing_options_json).bind(8, j.eco_mode ? 1 : 0);
        s.exec();
        auto job = reload(*db_, id);
        tx.commit();
        return job;
    });
}

boost::system::result<void>
job_store::mark_submitted(std::string_view job_id, std::string_view task_id,
                          std::string_view conversion_id, std::optional<double> eta,
                          std::optional<double> credit_estimate, std::string_view upstream_status,
                          std::optional<millis> poll_at) {
    return guarded([&]() -> boost::system::result<void> {
        const millis now = now_millis();
        transaction tx(*db_);
        const auto job = select_job(*db_, job_id);
        if (!job) {
            return fail(error::not_found, "no job " + std::string(job_id) + " to mark submitted");
        }
        if (job->status != job_status::submitting) {
            return fail(error::invalid_transition, "job " + job->id + " is " +
                                                       std::string(to_string(job->status)) +
                                                       ", so it cannot be marked submitted");
        }
        if (auto why = claim_ids(*db_, *job, task_id, conversion_id, now); !why.empty()) {
            return fail(error::conflict, std::move(why));
        }
        statement s(*db_, R"sql(
UPDATE jobs SET status = 'submitted', eta = ?2, credit_estimate = ?3, upstream_status = ?4,
                updated_at = ?5, next_poll_at = ?6, poll_attempts = 0
WHERE id = ?1
)sql");
        s.bind(1, job_id).bind(2, eta).bind(3, credit_estimate).bind(4, upstream_status);
        s.bind(5, now);
        if (poll_at) {
            s.bind(6, *poll_at);
        } else {
            s.bind_null(6);
        }
        s.exec();
        tx.commit();
        return {};
    });
}

boost::system::result<void> job_store::mark_failed(std::string_view job_id,
                                                   std::string_view reason) {
    return guarded([&]() -> boost::system::result<void> {
        const millis now = now_millis();
        transaction tx(*db_);
        const auto job = select_job(*db_, job_id);
        if (!job) {
            return fail(error::not_found, "no job " + std::string(job_id) + " to mark failed");
        }
        if (is_final(job->status)) {
            return fail(error::invalid_transition, "job " + job->id + " is already " +
                                                       std::string(to_string(job->status)) +
                                                       ", so it cannot be marked failed");
        }
        set_job_status(*db_, job_id, job_status::failed, reason, now);
        tx.commit();
        return {};
    });
}

boost::system::result<job_record> job_store::find(std::string_view key) {
    return guarded([&]() -> boost::system::result<job_record> {
        for (auto column : {"id", "task_id", "conversion_id"}) {
            if (auto job = select_job_by(*db_, column, key)) {
                return with_files(*db_, std::move(*job));
            }
        }
        return fail(error::not_found,
                    "no job has the id, task_id or conversion_id " + std::string(key));
    });
}

boost::system::result<job_record> job_store::find_by_token_hash(std::string_view token_hash) {
    return guarded([&]() -> boost::system::result<job_record> {
        if (auto job = select_job_by(*db_, "token_hash", token_hash)) {
            return with_files(*db_, std::move(*job));
        }
        // The hash itself stays out of the message: it identifies a token.
        return fail(error::not_found, "no job has that webhook token");
    });
}

boost::system::result<std::string> job_store::token_hash(std::string_view job_id) {
    return guarded([&]() -> boost::system::result<std::string> {
        statement s(*db_, "SELECT token_hash FROM jobs WHERE id = ?1");
        s.bind(1, job_id);
        if (!s.step()) {
            return fail(error::not_found, "no job " + std::string(job_id));
        }
        return s.column_text(0);
    });
}

boost::system::result<std::vector<job_record>> job_store::list(std::optional<job_status> status,
                                                               int limit) {
    return guarded([&]() -> boost::system::result<std::vector<job_record>> {
        const std::string where = status ? " WHERE status = ?2" : "";
        statement s(*db_, sql({"SELECT ", job_columns, " FROM jobs", where,
                               " ORDER BY created_at DESC, rowid DESC LIMIT ?1"}));
        s.bind(1, std::clamp(limit, 1, max_list));
        if (status) {
            s.bind(2, to_string(*status));
        }
        std::vector<job_record> jobs;
        while (s.step()) {
            jobs.push_back(read_job(s));
        }
        for (auto& job : jobs) {
            job.files = select_files(*db_, job.id);
        }
        return jobs;
    });
}

boost::system::result<job_record> job_store::adopt(std::string_view task_id,
                                                   std::string_view conversion_id) {
    return guarded([&]() -> boost::system::result<job_record> {
        if (task_id.empty() && conversion_id.empty()) {
            return fail(error::not_found, "a report without task_id and conversion_id cannot be "
                                          "matched to a job");
        }
        const millis now = now_millis();
        transaction tx(*db_);
        auto job = select_job_by(*db_, "task_id", task_id);
        if (!job) {
            job = select_job_by(*db_, "conversion_id", conversion_id);
        }
        if (job) {
            if (auto why = claim_ids(*db_, *job, task_id, conversion_id, now); !why.empty()) {
                return fail(error::conflict, std::move(why));
            }
        } else {
            statement s(*db_, R"sql(
INSERT INTO jobs (id, task_id, conversion_id, status, created_at, updated_at)
VALUES (?1, ?2, ?3, 'submitted', ?4, ?4)
)sql");
            const std::string id = random_job_id();
            s.bind(1, id);
            bind_or_null(s, 2, task_id);
            bind_or_null(s, 3, conversion_id);
            s.bind(4, now).exec();
            job = select_job(*db_, id);
        }
        auto result = reload(*db_, job->id);
        tx.commit();
        return result;
    });
}

boost::system::result<job_record> job_store::apply(std::string_view job_id, const outcome& o) {
    return guarded([&]() -> boost::system::result<job_record> {
        const millis now = now_millis();
        transaction tx(*db_);
        const auto job = select_job(*db_, job_id);
        if (!job) {
            return fail(error::not_found,
                        "no job " + std::string(job_id) + " to apply a report to");
        }
        if (job->status == job_status::completed) {
            return with_files(*db_, *job);
        }
        if (auto why = claim_ids(*db_, *job, o.task_id, o.conversion_id, now); !why.empty()) {
            return fail(error::conflict, std::move(why));
        }
        statement facts(*db_, R"sql(
UPDATE jobs SET
    upstream_status = CASE WHEN ?2 = '' THEN upstream_status ELSE ?2 END,
    conversion_cost = COALESCE(?3, conversion_cost),
    conversion_duration = COALESCE(?4, conversion_duration),
    updated_at = ?5
WHERE id = ?1
)sql");
        facts.bind(1, job_id).bind(2, o.upstream_status).bind(3, o.conversion_cost);
        facts.bind(4, o.conversion_duration).bind(5, now).exec();

        switch (o.what) {
        case outcome::kind::pending:
            break;
        case outcome::kind::failed:
            set_job_status(*db_, job_id, job_status::failed,
                           o.message.empty() ? upstream_failed_reason : o.message, now);
            break;
        case outcome::kind::succeeded:
            upsert_files(*db_, job_id, o.files, now);
            settle_after_success(*db_, job_id, now);
            stop_polling_unless_awaiting_links(*db_, job_id);
            break;
        }
        auto result = reload(*db_, job_id);
        tx.commit();
        return result;
    });
}

boost::system::result<std::vector<file_record>> job_store::runnable_files(millis now, int limit) {
    return guarded([&]() -> boost::system::result<std::vector<file_record>> {
        statement s(*db_, sql({"SELECT ", file_columns, R"sql(
FROM files JOIN jobs ON jobs.id = files.job_id
WHERE files.status IN ('pending', 'downloading') AND files.next_attempt_at <= ?1
  AND jobs.status NOT IN ('completed', 'failed')
ORDER BY files.id
LIMIT ?2
)sql"}));
        s.bind(1, now).bind(2, std::clamp(limit, 1, max_list));
        std::vector<file_record> files;
        while (s.step()) {
            files.push_back(read_file(s));
        }
        return files;
    });
}

boost::system::result<std::optional<millis>> job_store::next_wakeup() {
    return guarded([&]() -> boost::system::result<std::optional<millis>> {
        // Same job filter as runnable_files: a file that can never be handed
        // out must not wake the scheduler over and over.
        statement s(*db_, R"sql(
SELECT MIN(files.next_attempt_at)
FROM files JOIN jobs ON jobs.id = files.job_id
WHERE files.status = 'pending' AND jobs.status NOT IN ('completed', 'failed')
)sql");
        if (!s.step() || s.is_null(0)) {
            return std::optional<millis>();
        }
        return std::optional<millis>(s.column_int(0));
    });
}

boost::system::result<file_record> job_store::file_started(std::int64_t file_id) {
    return guarded([&]() -> boost::system::result<file_record> {
        const millis now = now_millis();
        transaction tx(*db_);
        const auto file = select_file(*db_, file_id);
        if (!file) {
            return fail(error::not_found, "no file " + std::to_string(file_id) + " to start");
        }
        // `downloading` is accepted too: a previous process may have died
        // in the middle of this file.
        if (file->status != file_status::pending && file->status != file_status::downloading) {
            return fail(error::invalid_transition,
                        "file " + std::to_string(file_id) + " of job " + file->job_id + " is " +
                            std::string(to_string(file->status)) + ", so it cannot be started");
        }
        const auto job = select_job(*db_, file->job_id);
        if (job && is_final(job->status)) {
            return fail(error::invalid_transition, "job " + job->id + " is " +
                                                       std::string(to_string(job->status)) +
                                                       ", so its files are not downloaded");
        }
        statement s(*db_, "UPDATE files SET status = 'downloading', attempts = attempts + 1 "
                          "WHERE id = ?1");
        s.bind(1, file_id).exec();
        statement j(*db_, R"sql(
UPDATE jobs SET
    status = CASE WHEN status IN ('submitting', 'submitted') THEN 'downloading' ELSE status END,
    updated_at = ?2
WHERE id = ?1
)sql");
        j.bind(1, file->job_id).bind(2, now).exec();
        auto result = select_file(*db_, file_id);
        tx.commit();
        return std::move(*result);
    });
}

boost::system::result<job_record> job_store::file_done(std::int64_t file_id, std::string_view path,
                                                       std::int64_t bytes,
                                                       std::string_view sha256) {
    return guarded([&]() -> boost::system::result<job_record> {
        const millis now = now_millis();
        transaction tx(*db_);
        const auto file = select_file(*db_, file_id);
        if (!file) {
            return fail(error::not_found, "no file " + std::to_string(file_id) + " to finish");
        }
        if (file->status != file_status::downloading) {
            return fail(error::invalid_transition,
                        "file " + std::to_string(file_id) + " of job " + file->job_id + " is " +
                            std::string(to_string(file->status)) + ", not downloading");
        }
        statement s(*db_, "UPDATE files SET status = 'done', path = ?2, bytes = ?3, sha256 = ?4, "
                          "error = '' WHERE id = ?1");
        s.bind(1, file_id).bind(2, path).bind(3, bytes).bind(4, sha256).exec();
        const auto counts = count_files(*db_, file->job_id);
        if (counts.done == counts.total) {
            set_job_status(*db_, file->job_id, job_status::completed, "", now);
        } else {
            touch_job(*db_, file->job_id, now);
        }
        auto result = reload(*db_, file->job_id);
        tx.commit();
        return result;
    });
}

boost::system::result<void> job_store::file_retry(std::int64_t file_id, std::string_view reason,
                                                  millis next_attempt_at) {
    return guarded([&]() -> boost::system::result<void> {
        const millis now = now_millis();
        transaction tx(*db_);
        const auto file = select_file(*db_, file_id);
        if (!file) {
            return fail(error::not_found, "no file " + std::to_string(file_id) + " to retry");
        }
        if (file->status != file_status::downloading) {
            return fail(error::invalid_transition,
                        "file " + std::to_string(file_id) + " of job " + file->job_id + " is " +
                            std::string(to_string(file->status)) + ", not downloading");
        }
        statement s(*db_, "UPDATE files SET status = 'pending', error = ?2, next_attempt_at = ?3 "
                          "WHERE id = ?1");
        s.bind(1, file_id).bind(2, reason).bind(3, next_attempt_at).exec();
        touch_job(*db_, file->job_id, now);
        tx.commit();
        return {};
    });
}

boost::system::result<job_record> job_store::file_failed(std::int64_t file_id,
                                                         std::string_view reason) {
    return guarded([&]() -> boost::system::result<job_record> {
        const millis now = now_millis();
        transaction tx(*db_);
        auto file = select_file(*db_, file_id);
        if (!file) {
            return fail(error::not_found, "no file " + std::to_string(file_id) + " to fail");
        }
        if (file->status != file_status::downloading) {
            return fail(error::invalid_transition,
                        "file " + std::to_string(file_id) + " of job " + file->job_id + " is " +
                            std::string(to_string(file->status)) + ", not downloading");
        }
        statement s(*db_, "UPDATE files SET status = 'failed', error = ?2 WHERE id = ?1");
        s.bind(1, file_id).bind(2, reason).exec();
        file->error = reason;
        const auto job = select_job(*db_, file->job_id);
        // The first failure is the one worth reporting; later ones of the
        // same job only repeat that it is broken.
        if (job && job->status != job_status::failed) {
            set_job_status(*db_, file->job_id, job_status::failed, file_failure_reason(*file), now);
        } else {
            touch_job(*db_, file->job_id, now);
        }
        auto result = reload(*db_, file->job_id);
        tx.commit();
        return result;
    });
}

boost::system::result<job_record> job_store::file_link_expired(std::int64_t file_id,
                                                               std::string_view reason,
                                                               millis now) {
    return guarded([&]() -> boost::system::result<job_record> {
        transaction tx(*db_);
        const auto file = select_file(*db_, file_id);
        if (!file) {
            return fail(error::not_found,
                        "no file " + std::to_string(file_id) + " to wait for a fresh link");
        }
        if (file->status != file_status::downloading) {
            return fail(error::invalid_transition,
                        "file " + std::to_string(file_id) + " of job " + file->job_id + " is " +
                            std::string(to_string(file->status)) + ", not downloading");
        }
        statement s(*db_, "UPDATE files SET status = 'pending', error = ?2, next_attempt_at = ?3 "
                          "WHERE id = ?1");
        s.bind(1, file_id).bind(2, reason).bind(3, awaiting_fresh_link).exec();
        statement j(*db_, R"sql(
UPDATE jobs SET next_poll_at = MIN(COALESCE(next_poll_at, ?2), ?2), updated_at = ?2
WHERE id = ?1
)sql");
        j.bind(1, file->job_id).bind(2, now).exec();
        auto result = reload(*db_, file->job_id);
        tx.commit();
        return result;
    });
}

boost::system::result<std::vector<job_record>> job_store::jobs_due_for_poll(millis now,
                                                                            int limit) {
    return guarded([&]() -> boost::system::result<std::vector<job_record>> {
        statement s(*db_, sql({"SELECT ", job_columns, R"sql(
FROM jobs
WHERE next_poll_at IS NOT NULL AND next_poll_at <= ?1 AND task_id IS NOT NULL
  AND status NOT IN ('completed', 'failed')
ORDER BY next_poll_at, rowid
LIMIT ?2
)sql"}));
        s.bind(1, now).bind(2, std::clamp(limit, 1, max_list));
        std::vector<job_record> jobs;
        while (s.step()) {
            jobs.push_back(read_job(s));
        }
        for (auto& job : jobs) {
            job.files = select_files(*db_, job.id);
        }
        return jobs;
    });
}

boost::system::result<std::optional<millis>> job_store::next_poll_due() {
    return guarded([&]() -> boost::system::result<std::optional<millis>> {
        // Same filter as jobs_due_for_poll, so the poller never wakes for a
        // job it would not be handed.
        statement s(*db_, R"sql(
SELECT MIN(next_poll_at) FROM jobs
WHERE next_poll_at IS NOT NULL AND task_id IS NOT NULL AND status NOT IN ('completed', 'failed')
)sql");
        if (!s.step() || s.is_null(0)) {
            return std::optional<millis>();
        }
        return std::optional<millis>(s.column_int(0));
    });
}

boost::system::result<void> job_store::schedule_poll(std::string_view job_id,
                                                     std::optional<millis> at) {
    return guarded([&]() -> boost::system::result<void> {
        transaction tx(*db_);
        const auto job = select_job(*db_, job_id);
        if (auto refused = pollable(job)) {
            return fail(*refused, "job " + std::string(job_id) +
                                      (job ? " is " + std::string(to_string(job->status)) +
                                                 ", so no status look-up is planned"
                                           : " does not exist"));
        }
        statement s(*db_, "UPDATE jobs SET next_poll_at = ?2 WHERE id = ?1");
        s.bind(1, job_id);
        if (at) {
            s.bind(2, *at);
        } else {
            s.bind_null(2);
        }
        s.exec();
        tx.commit();
        return {};
    });
}

boost::system::result<void> job_store::poll_again(std::string_view job_id, millis at) {
    return guarded([&]() -> boost::system::result<void> {
        transaction tx(*db_);
        const auto job = select_job(*db_, job_id);
        if (auto refused = pollable(job)) {
            return fail(*refused, "job " + std::string(job_id) +
                                      (job ? " is " + std::string(to_string(job->status)) +
                                                 ", so it is not looked up again"
                                           : " does not exist"));
        }
        statement s(*db_, "UPDATE jobs SET next_poll_at = ?2, poll_attempts = poll_attempts + 1 "
                          "WHERE id = ?1");
        s.bind(1, job_id).bind(2, at).exec();
        tx.commit();
        return {};
    });
}

boost::system::result<std::vector<job_record>> job_store::stale_submitting(millis created_before) {
    return guarded([&]() -> boost::system::result<std::vector<job_record>> {
        statement s(*db_, sql({"SELECT ", job_columns, R"sql(
FROM jobs WHERE status = 'submitting' AND created_at < ?1
ORDER BY created_at, rowid
)sql"}));
        s.bind(1, created_before);
        std::vector<job_record> jobs;
        while (s.step()) {
            jobs.push_back(read_job(s));
        }
        return jobs;
    });
}

boost::system::result<job_record> job_store::give_up_submitting(std::string_view job_id,
                                                                std::string_view reason) {
    return guarded([&]() -> boost::system::result<job_record> {
        const millis now = now_millis();
        transaction tx(*db_);
        const auto job = select_job(*db_, job_id);
        if (!job) {
            return fail(error::not_found, "no job " + std::string(job_id) + " to give up on");
        }
        if (job->status != job_status::submitting) {
            return fail(error::invalid_transition, "job " + job->id + " is " +
                                                       std::string(to_string(job->status)) +
                                                       ", no longer submitting");
        }
        set_job_status(*db_, job_id, job_status::failed, reason, now);
        auto result = reload(*db_, job_id);
        tx.commit();
        return result;
    });
}

boost::system::result<job_record> job_store::retry(std::string_view key, millis now) {
    return guarded([&]() -> boost::system::result<job_record> {
        transaction tx(*db_);
        std::optional<job_record> job;
        for (auto column : {"id", "task_id", "conversion_id"}) {
            if ((job = select_job_by(*db_, column, key))) {
                break;
            }
        }
        if (!job) {
            return fail(error::not_found,
                        "no job has the id, task_id or conversion_id " + std::string(key));
        }
        if (job->status != job_status::failed) {
            return fail(error::invalid_transition,
                        "job " + job->id + " is " + std::string(to_string(job->status)) +
                            ", not failed; only a failed job can be retried");
        }
        const auto counts = count_files(*db_, job->id);
        if (counts.total == 0 && job->task_id.empty()) {
            return fail(error::invalid_transition,
                        "job " + job->id + " was never accepted by MusicGPT (it has no "
                                           "task_id), so there is nothing to retry; submit the "
                                           "audio again");
        }
        if (counts.total == 0) {
            // Nothing to download yet: ask MusicGPT where the job stands.
            statement s(*db_, R"sql(
UPDATE jobs SET status = 'submitted', error = '', updated_at = ?2, next_poll_at = ?2,
                poll_attempts = 0
WHERE id = ?1
)sql");
            s.bind(1, job->id).bind(2, now).exec();
        } else {
            statement f(*db_, R"sql(
UPDATE files SET status = 'pending', attempts = 0, error = '', next_attempt_at = ?2
WHERE job_id = ?1 AND status <> 'done'
)sql");
            f.bind(1, job->id).bind(2, now).exec();
            statement j(*db_, "UPDATE jobs SET poll_attempts = 0, next_poll_at = NULL "
                              "WHERE id = ?1");
            j.bind(1, job->id).exec();
            set_job_status(*db_, job->id,
                           counts.done == counts.total ? job_status::completed
                                                       : job_status::downloading,
                           "", now);
        }
        auto result = reload(*db_, job->id);
        tx.commit();
        return result;
    });
}

boost::system::result<bool> job_store::remember_delivery(std::string_view webhook_id,
                                                         millis now) {
    return guarded([&]() -> boost::system::result<bool> {
        transaction tx(*db_);
        statement insert(*db_, "INSERT INTO webhook_deliveries (id, received_at) VALUES (?1, ?2) "
                               "ON CONFLICT (id) DO NOTHING");
        insert.bind(1, webhook_id).bind(2, now).exec();
        const bool is_new = db_->changes() > 0;
        if (is_new) {
            // Forgetting here, on the rare write, keeps the table to a
            // week of ids without a separate housekeeping task; the index
            // on received_at makes it cheap.
            statement prune(*db_, "DELETE FROM webhook_deliveries WHERE received_at < ?1");
            prune.bind(1, now - delivery_memory).exec();
        }
        tx.commit();
        return is_new;
    });
}

boost::system::result<bool> job_store::seen_delivery(std::string_view webhook_id) {
    return guarded([&]() -> boost::system::result<bool> {
        statement find(*db_, "SELECT 1 FROM webhook_deliveries WHERE id = ?1");
        find.bind(1, webhook_id);
        return find.step();
    });
}

} // namespace stemd::storage
