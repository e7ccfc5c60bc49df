#include "storage/pg_outbox.hpp"

#include "common/crypto.hpp"
#include "storage/error.hpp"
#include "storage/outbox_body.hpp"
#include "storage/pg_rows.hpp"

#include <algorithm>
#include <string>

namespace stemd::storage::pg {

namespace {

constexpr std::string_view outbox_columns =
    "id, job_id, type, channel, body, status, attempts, last_error, next_attempt_at, "
    "delivered_at, created_at, claim_owner, claim_until";

notification_record read_notification(const rows& r, int row) {
    notification_record n;
    n.id = r.text(row, 0);
    n.job_id = r.text(row, 1);
    n.type = r.text(row, 2);
    n.channel = r.text(row, 3);
    n.body = r.text(row, 4);
    n.status = r.text(row, 5);
    n.attempts = static_cast<int>(r.int64(row, 6));
    n.last_error = r.text(row, 7);
    n.next_attempt_at = r.optional_int64(row, 8);
    n.delivered_at = r.optional_int64(row, 9);
    n.created_at = r.int64(row, 10);
    n.claim_owner = r.text(row, 11);
    n.claim_until = r.optional_int64(row, 12).value_or(0);
    return n;
}

std::vector<notification_record> read_notifications(const rows& r) {
    std::vector<notification_record> out;
    out.reserve(static_cast<std::size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i)
        out.push_back(read_notification(r, i));
    return out;
}

// Events of a channel no longer configured stay pending, untouched, for
// when it is again. Only the literals TRUE and FALSE go into the text,
// never a configured string.
std::string enabled_channel(const connection& c) {
    const auto& on = c.outbox_channels();
    const auto flag = [&](std::string_view name) {
        return std::find(on.begin(), on.end(), name) != on.end() ? "TRUE" : "FALSE";
    };
    return sql({"((channel = 'url' AND ", flag("url"), ") OR (channel = 'command' AND ",
                flag("command"), "))"});
}

} // namespace

void write_outbox_events(connection& c, std::string_view job_id, millis now) {
    if (c.outbox_channels().empty())
        return;
    const job_record job = reload(c, job_id);
    const std::string_view type =
        job.status == job_status::completed ? "job.completed" : "job.failed";
    const std::string body = outbox_event_body(job, type, now);
    for (const auto& channel : c.outbox_channels()) {
        c.exec("INSERT INTO outbox (id, job_id, type, body, channel, next_attempt_at, "
               "created_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
               params()
                   .add("msg_" + random_token_hex(16))
                   .add(job_id)
                   .add(type)
                   .add(body)
                   .add(channel)
                   .add(now));
    }
    c.note_work();
}

void end_failed_events_at_retry(connection& c, std::string_view job_id) {
    c.exec("UPDATE outbox SET status = 'failed', last_error = 'the job was retried "
           "before this event was delivered', next_attempt_at = NULL, claim_owner = "
           "NULL, claim_until = NULL WHERE job_id = $1 AND type = 'job.failed' AND "
           "status = 'pending'",
           params().add(job_id));
}

std::vector<notification_record> select_notifications(connection& c, std::string_view job_id) {
    return read_notifications(c.exec(
        sql({"SELECT ", outbox_columns, " FROM outbox WHERE job_id = $1 ORDER BY created_at, id"}),
        params().add(job_id)));
}

result<std::vector<notification_record>> claim_notifications(connection& c, std::string_view owner,
                                                             millis now, millis lease, int limit) {
    // Selected and claimed in one statement; SKIP LOCKED lets another
    // process take the next events meanwhile instead of waiting.
    const std::string claim = sql(
        {"WITH due AS (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 "
         "AND (claim_owner IS NULL OR claim_until <= $1) AND ",
         enabled_channel(c),
         " ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED), claimed AS (UPDATE "
         "outbox SET claim_owner = $3, claim_until = $4, attempts = outbox.attempts + 1 FROM due "
         "WHERE outbox.id = due.id RETURNING outbox.*) SELECT ",
         outbox_columns, " FROM claimed ORDER BY next_attempt_at, id"});
    transaction tx(c);
    auto out = read_notifications(c.exec(
        claim, params().add(now).add(std::clamp(limit, 1, max_list)).add(owner).add(now + lease)));
    tx.commit();
    return out;
}

result<void> end_notification(connection& c, std::string_view id, std::string_view owner,
                              const notification_end& e, millis now) {
    const bool again = e.status == notification_status::pending;
    const bool delivered = e.status == notification_status::delivered;
    if (!again && !delivered && e.status != notification_status::refused &&
        e.status != notification_status::failed)
        return make_error(error::invalid_transition, "notification " + std::string(id) +
                                                         " cannot end as " + std::string(e.status));
    transaction tx(c);
    const auto r =
        c.exec("UPDATE outbox SET status = $3, last_error = $4, next_attempt_at = $5, "
               "delivered_at = $6, claim_owner = NULL, claim_until = NULL "
               "WHERE id = $1 AND claim_owner = $2 AND status = 'pending'",
               params()
                   .add(id)
                   .add(owner)
                   .add(e.status)
                   .add(e.error)
                   .add(again ? std::optional<std::int64_t>(e.next_attempt_at) : std::nullopt)
                   .add(delivered ? std::optional<std::int64_t>(now) : std::nullopt));
    if (r.affected() == 0)
        return make_error(error::claim_lost,
                          "notification " + std::string(id) + " is not claimed by " +
                              std::string(owner) +
                              " any more (another delivery took it over, or its job was "
                              "retried)");
    if (again)
        c.note_work();
    tx.commit();
    return {};
}

result<std::optional<millis>> next_notification_due(connection& c) {
    const auto r = c.exec(sql({"SELECT MIN(CASE WHEN claim_owner IS NULL THEN next_attempt_at "
                               "ELSE GREATEST(next_attempt_at, claim_until) END) FROM outbox "
                               "WHERE status = 'pending' AND ",
                               enabled_channel(c)}));
    if (r.empty() || r.is_null(0, 0))
        return std::optional<millis>();
    return std::optional<millis>(r.int64(0, 0));
}

result<std::vector<notification_record>>
notifications(connection& c, std::optional<std::string_view> status, int limit) {
    params p;
    if (status)
        p.add(*status);
    else
        p.add_null();
    p.add(std::clamp(limit, 1, max_list));
    return read_notifications(c.exec(sql({"SELECT ", outbox_columns,
                                          " FROM outbox WHERE $1::text IS NULL OR status = $1 "
                                          "ORDER BY created_at DESC, id DESC LIMIT $2"}),
                                     p));
}

int renew_notification_claims(connection& c, std::string_view owner, millis until) {
    // Only pending events: an ended one has no claim left to renew. Never
    // shortened: the notifier claims a batch for longer than the
    // heartbeat's lease (a delivery may take its whole timeout), and the
    // heartbeat must not cut that.
    const auto r = c.exec("UPDATE outbox SET claim_until = GREATEST(claim_until, $2::bigint) "
                          "WHERE claim_owner = $1 AND status = 'pending'",
                          params().add(owner).add(until));
    return static_cast<int>(r.affected());
}

int release_notification_claims(connection& c) {
    const auto r = c.exec("UPDATE outbox SET claim_owner = NULL, claim_until = NULL "
                          "WHERE claim_owner IS NOT NULL");
    return static_cast<int>(r.affected());
}

int release_notification_claims(connection& c, std::string_view owner) {
    const auto r = c.exec("UPDATE outbox SET claim_owner = NULL, claim_until = NULL "
                          "WHERE claim_owner = $1",
                          params().add(owner));
    return static_cast<int>(r.affected());
}

std::int64_t pending_notifications(connection& c) {
    return c.exec("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").int64(0, 0);
}

} // namespace stemd::storage::pg
