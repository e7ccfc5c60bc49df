#include "storage/sqlite_budget.hpp"

#include "storage/budget.hpp"
#include "storage/database.hpp"

#include <string>

namespace stemd::storage::sqlite {

result<budget_take> take_budget(database& db, std::string_view name, millis now, double capacity,
                                double per_second) {
    // BEGIN IMMEDIATE: every process on the file draws one after another.
    transaction tx(db);
    statement create(db, "INSERT INTO budgets (name, tokens, updated_at, paused_until) "
                         "VALUES (?1, ?2, ?3, 0) ON CONFLICT (name) DO NOTHING");
    create.bind(1, name).bind(2, capacity).bind(3, now).exec();
    statement read(db, "SELECT tokens, updated_at, paused_until FROM budgets WHERE name = ?1");
    read.bind(1, name);
    read.step();
    bucket b{read.column_double(0), read.column_int(1), read.column_int(2)};
    const budget_take taken = draw(b, now, capacity, per_second);
    statement write(db, "UPDATE budgets SET tokens = ?2, updated_at = ?3 WHERE name = ?1");
    write.bind(1, name).bind(2, b.tokens).bind(3, b.updated_at).exec();
    tx.commit();
    return taken;
}

result<void> pause_budget(database& db, std::string_view name, millis until) {
    transaction tx(db);
    statement s(db, "INSERT INTO budgets (name, tokens, updated_at, paused_until) "
                    "VALUES (?1, ?2, 0, ?3) ON CONFLICT (name) DO UPDATE SET "
                    "paused_until = MAX(paused_until, excluded.paused_until)");
    s.bind(1, name).bind(2, full_bucket).bind(3, until).exec();
    tx.commit();
    return {};
}

} // namespace stemd::storage::sqlite
