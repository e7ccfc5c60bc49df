#include "storage/pg_deliveries.hpp"

#include "storage/pg_connection.hpp"

namespace stemd::storage::pg {

namespace {

// Delivery ids are kept this long for the replay guard.
constexpr millis delivery_memory = 7LL * 24 * 3600 * 1000;

} // namespace

result<bool> remember_delivery(connection& c, std::string_view webhook_id, millis now) {
    transaction tx(c);
    // Two instances taking the same delivery at once: the second INSERT
    // waits for the first's commit and then changes nothing (or fails with
    // 40001 and, run again, sees the id), so only one calls it new.
    const bool is_new = c.exec("INSERT INTO webhook_deliveries (id, received_at) VALUES ($1, $2) "
                               "ON CONFLICT (id) DO NOTHING",
                               params().add(webhook_id).add(now))
                            .affected() > 0;
    if (is_new) {
        // Forgetting here, on the rare write, keeps the table to a week of
        // ids without a separate housekeeping task; the index on
        // received_at makes it cheap.
        forget_deliveries(c, now);
    }
    tx.commit();
    return is_new;
}

int forget_deliveries(connection& c, millis now) {
    return static_cast<int>(c.exec("DELETE FROM webhook_deliveries WHERE received_at < $1",
                                   params().add(now - delivery_memory))
                                .affected());
}

result<bool> seen_delivery(connection& c, std::string_view webhook_id) {
    return !c.exec("SELECT 1 FROM webhook_deliveries WHERE id = $1", params().add(webhook_id))
                .empty();
}

} // namespace stemd::storage::pg
