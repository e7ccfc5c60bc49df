#include "storage/sqlite_schema.hpp"

#include "storage/database.hpp"
#include "storage/error.hpp"

#include <array>
#include <string>
#include <string_view>

namespace stemd::storage::sqlite {

namespace {

// Each entry brings the schema from version i to i + 1. Never edit an entry
// that has shipped; append a new one instead.
constexpr std::array<std::string_view, 7> migrations = {
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
    // 3: claims (who downloads a file, who looks a job up, until when).
    // Files an older stemd left downloading have no owner, so they are free
    // to be claimed at once.
    R"sql(
ALTER TABLE files ADD COLUMN claim_owner TEXT;
ALTER TABLE files ADD COLUMN claim_until INTEGER;
ALTER TABLE jobs ADD COLUMN poll_owner TEXT;
ALTER TABLE jobs ADD COLUMN poll_until INTEGER;
CREATE INDEX files_by_path ON files (path);
CREATE INDEX files_by_claim_owner ON files (claim_owner) WHERE claim_owner IS NOT NULL;
CREATE INDEX jobs_by_poll_owner ON jobs (poll_owner) WHERE poll_owner IS NOT NULL;
)sql",
    // 4: how often each file's refused link was sent for a fresh one, so
    // that a link that stays dead ends in a failure instead of a loop.
    R"sql(
ALTER TABLE files ADD COLUMN link_refreshes INTEGER NOT NULL DEFAULT 0;
)sql",
    // 5: each job's history, for `stemd logs` (older jobs start with none).
    // AUTOINCREMENT: an id is never handed out again once pruning deleted
    // its event, so ids keep telling events apart and in order.
    R"sql(
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    file TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_by_job ON events (job_id, id);
)sql",
    // 6: the outbox: what stemd tells the user's app when a job completes
    // or fails, written in the transaction that makes it so and delivered
    // (at least once) from here, across restarts.
    R"sql(
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    type TEXT NOT NULL CHECK (type IN ('job.completed', 'job.failed')),
    body TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('url', 'command')),
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'refused', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    claim_owner TEXT,
    claim_until INTEGER,
    last_error TEXT NOT NULL DEFAULT '',
    delivered_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_job ON outbox (job_id, created_at);
CREATE INDEX outbox_by_created ON outbox (created_at);
)sql",
    // 7: rate budgets shared by every process on the database (a token
    // bucket per name: store::take_budget); a missing bucket starts full.
    R"sql(
CREATE TABLE budgets (
    name TEXT PRIMARY KEY NOT NULL,
    tokens REAL NOT NULL,
    updated_at INTEGER NOT NULL,
    paused_until INTEGER NOT NULL DEFAULT 0
);
)sql",
};

stemd::error too_new(const std::filesystem::path& file, int found) {
    return make_error(error::newer_schema, "the job database " + file.string() +
                                               " has schema version " + std::to_string(found) +
                                               " but this stemd knows only up to " +
                                               std::to_string(schema_version()) +
                                               "; upgrade stemd or point it at another file");
}

} // namespace

int schema_version() noexcept {
    return static_cast<int>(migrations.size());
}

result<void> migrate(database& db, const std::filesystem::path& file) {
    const int seen = db.user_version();
    if (seen > schema_version()) {
        return too_new(file, seen);
    }
    if (seen == schema_version()) {
        return {};
    }
    transaction tx(db);
    // Another process may have migrated between the read above and taking
    // the write lock.
    const int locked = db.user_version();
    if (locked > schema_version()) {
        return too_new(file, locked);
    }
    for (int step = locked; step < schema_version(); ++step) {
        db.execute(migrations[static_cast<std::size_t>(step)]);
    }
    db.set_user_version(schema_version());
    tx.commit();
    return {};
}

} // namespace stemd::storage::sqlite
