#include "storage/sqlite_deliveries.hpp"

#include "storage/database.hpp"

namespace stemd::storage::sqlite {

namespace {

// Delivery ids are kept this long for the replay guard.
constexpr millis delivery_memory = 7LL * 24 * 3600 * 1000;

} // namespace

result<bool> remember_delivery(database& db, std::string_view webhook_id, millis now) {
    transaction tx(db);
    statement insert(db, "INSERT INTO webhook_deliveries (id, received_at) VALUES (?1, ?2) "
                         "ON CONFLICT (id) DO NOTHING");
    insert.bind(1, webhook_id).bind(2, now).exec();
    const bool is_new = db.changes() > 0;
    if (is_new) {
        // Forgetting here, on the rare write, keeps the table to a week of
        // ids without a separate housekeeping task; the index on
        // received_at makes it cheap.
        forget_deliveries(db, now);
    }
    tx.commit();
    return is_new;
}

int forget_deliveries(database& db, millis now) {
    statement prune(db, "DELETE FROM webhook_deliveries WHERE received_at < ?1");
    prune.bind(1, now - delivery_memory).exec();
    return db.changes();
}

result<bool> seen_delivery(database& db, std::string_view webhook_id) {
    statement find(db, "SELECT 1 FROM webhook_deliveries WHERE id = ?1");
    find.bind(1, webhook_id);
    return find.step();
}

} // namespace stemd::storage::sqlite
