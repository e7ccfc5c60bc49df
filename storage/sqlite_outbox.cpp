#include "storage/sqlite_outbox.hpp"

#include "common/crypto.hpp"
#include "storage/error.hpp"
#include "storage/outbox_body.hpp"
#include "storage/sqlite_rows.hpp"

#include <algorithm>
#include <string>

namespace stemd::storage::sqlite {

namespace {

constexpr std::string_view outbox_columns =
    "id, job_id, type, channel, body, status, attempts, last_error, next_attempt_at, "
    "delivered_at, created_at, claim_owner, claim_until";

notification_record read_notification(const statement& s) {
    notification_record n;
    n.id = s.column_text(0);
    n.job_id = s.column_text(1);
    n.type = s.column_text(2);
    n.channel = s.column_text(3);
    n.body = s.column_text(4);
    n.status = s.column_text(5);
    n.attempts = static_cast<int>(s.column_int(6));
    n.last_error = s.column_text(7);
    if (!s.is_null(8))
        n.next_attempt_at = s.column_int(8);
    if (!s.is_null(9))
        n.delivered_at = s.column_int(9);
    n.created_at = s.column_int(10);
    n.claim_owner = s.column_text(11);
    n.claim_until = s.is_null(12) ? 0 : s.column_int(12);
    return n;
}

std::vector<notification_record> read_notifications(statement& s) {
    std::vector<notification_record> out;
    while (s.step())
        out.push_back(read_notification(s));
    return out;
}

// Events of a channel no longer configured stay pending, untouched, for
// when it is again (?3: url enabled, ?4: command enabled).
constexpr std::string_view enabled_channel =
    "((channel = 'url' AND ?3) OR (channel = 'command' AND ?4))";

void bind_channels(const database& db, statement& s) {
    const auto& on = db.outbox_channels();
    s.bind(3, std::find(on.begin(), on.end(), "url") != on.end() ? 1 : 0);
    s.bind(4, std::find(on.begin(), on.end(), "command") != on.end() ? 1 : 0);
}

} // namespace

void write_outbox_events(database& db, std::string_view job_id, millis now) {
    if (db.outbox_channels().empty())
        return;
    const job_record job = reload(db, job_id);
    const std::string_view type =
        job.status == job_status::completed ? "job.completed" : "job.failed";
    const std::string body = outbox_event_body(job, type, now);
    statement insert(db, "INSERT INTO outbox (id, job_id, type, body, channel, next_attempt_at, "
                         "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)");
    for (const auto& channel : db.outbox_channels()) {
        insert.bind(1, "msg_" + random_token_hex(16)).bind(2, job_id).bind(3, type);
        insert.bind(4, body).bind(5, channel).bind(6, now).exec();
        insert.reset();
    }
}

void end_failed_events_at_retry(database& db, std::string_view job_id) {
    statement s(db, "UPDATE outbox SET status = 'failed', last_error = 'the job was retried "
                    "before this event was delivered', next_attempt_at = NULL, claim_owner = "
                    "NULL, claim_until = NULL WHERE job_id = ?1 AND type = 'job.failed' AND "
                    "status = 'pending'");
    s.bind(1, job_id).exec();
}

std::vector<notification_record> select_notifications(database& db, std::string_view job_id) {
    statement s(db, sql({"SELECT ", outbox_columns,
                         " FROM outbox WHERE job_id = ?1 ORDER BY created_at, id"}));
    s.bind(1, job_id);
    return read_notifications(s);
}

result<std::vector<notification_record>> claim_notifications(database& db, std::string_view owner,
                                                             millis now, millis lease, int limit) {
    transaction tx(db);
    statement due(db, sql({"SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= "
                           "?1 AND (claim_owner IS NULL OR claim_until <= ?1) AND ",
                           enabled_channel, " ORDER BY next_attempt_at, id LIMIT ?2"}));
    due.bind(1, now).bind(2, std::clamp(limit, 1, max_list));
    bind_channels(db, due);
    std::vector<std::string> ids;
    while (due.step())
        ids.push_back(due.column_text(0));
    statement take(db, "UPDATE outbox SET claim_owner = ?2, claim_until = ?3, "
                       "attempts = attempts + 1 WHERE id = ?1");
    statement read(db, sql({"SELECT ", outbox_columns, " FROM outbox WHERE id = ?1"}));
    std::vector<notification_record> out;
    for (const auto& id : ids) {
        take.bind(1, id).bind(2, owner).bind(3, now + lease).exec();
        take.reset();
        read.bind(1, id);
        read.step();
        out.push_back(read_notification(read));
        read.reset();
    }
    tx.commit();
    return out;
}

result<void> end_notification(database& db, std::string_view id, std::string_view owner,
                              const notification_end& e, millis now) {
    const bool again = e.status == notification_status::pending;
    const bool delivered = e.status == notification_status::delivered;
    if (!again && !delivered && e.status != notification_status::refused &&
        e.status != notification_status::failed)
        return make_error(error::invalid_transition, "notification " + std::string(id) +
                                                         " cannot end as " + std::string(e.status));
    transaction tx(db);
    statement s(db, "UPDATE outbox SET status = ?3, last_error = ?4, next_attempt_at = ?5, "
                    "delivered_at = ?6, claim_owner = NULL, claim_until = NULL "
                    "WHERE id = ?1 AND claim_owner = ?2 AND status = 'pending'");
    s.bind(1, id).bind(2, owner).bind(3, e.status).bind(4, e.error);
    bind_or_null(s, 5, again ? std::optional<millis>(e.next_attempt_at) : std::nullopt);
    bind_or_null(s, 6, delivered ? std::optional<millis>(now) : std::nullopt);
    s.exec();
    if (db.changes() == 0)
        return make_error(error::claim_lost,
                          "notification " + std::string(id) + " is not claimed by " +
                              std::string(owner) +
                              " any more (another delivery took it over, or its job was "
                              "retried)");
    tx.commit();
    return {};
}

result<std::optional<millis>> next_notification_due(database& db) {
    statement s(db, sql({"SELECT MIN(CASE WHEN claim_owner IS NULL THEN next_attempt_at "
                         "ELSE MAX(next_attempt_at, claim_until) END) FROM outbox "
                         "WHERE status = 'pending' AND ",
                         enabled_channel}));
    bind_channels(db, s);
    if (!s.step() || s.is_null(0))
        return std::optional<millis>();
    return std::optional<millis>(s.column_int(0));
}

result<std::vector<notification_record>>
notifications(database& db, std::optional<std::string_view> status, int limit) {
    statement s(db, sql({"SELECT ", outbox_columns,
                         " FROM outbox WHERE ?1 IS NULL OR status = ?1 "
                         "ORDER BY created_at DESC, id DESC LIMIT ?2"}));
    if (status)
        s.bind(1, *status);
    else
        s.bind_null(1);
    s.bind(2, std::clamp(limit, 1, max_list));
    return read_notifications(s);
}

int renew_notification_claims(database& db, std::string_view owner, millis until) {
    // Only pending events: an ended one has no claim left to renew. Never
    // shortened: the notifier claims a batch for longer than the
    // heartbeat's lease (a delivery may take its whole timeout), and the
    // heartbeat must not cut that.
    statement s(db, "UPDATE outbox SET claim_until = MAX(COALESCE(claim_until, 0), ?2) "
                    "WHERE claim_owner = ?1 AND status = 'pending'");
    s.bind(1, owner).bind(2, until).exec();
    return db.changes();
}

int release_notification_claims(database& db) {
    statement s(db, "UPDATE outbox SET claim_owner = NULL, claim_until = NULL "
                    "WHERE claim_owner IS NOT NULL");
    s.exec();
    return db.changes();
}

int release_notification_claims(database& db, std::string_view owner) {
    statement s(db, "UPDATE outbox SET claim_owner = NULL, claim_until = NULL "
                    "WHERE claim_owner = ?1");
    s.bind(1, owner).exec();
    return db.changes();
}

std::int64_t pending_notifications(database& db) {
    statement s(db, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'");
    s.step();
    return s.column_int(0);
}

} // namespace stemd::storage::sqlite
