#include "storage/pg_budget.hpp"

#include "storage/budget.hpp"
#include "storage/pg_connection.hpp"

namespace stemd::storage::pg {

result<budget_take> take_budget(connection& c, std::string_view name, millis now, double capacity,
                                double per_second) {
    // SERIALIZABLE and FOR UPDATE: two processes drawing at once take their
    // turns on the row (or one runs again after 40001), so a token is never
    // handed out twice.
    transaction tx(c);
    c.exec("INSERT INTO budgets (name, tokens, updated_at, paused_until) "
           "VALUES ($1, $2, $3, 0) ON CONFLICT (name) DO NOTHING",
           params().add(name).add(capacity).add(now));
    const auto r = c.exec("SELECT tokens, updated_at, paused_until FROM budgets "
                          "WHERE name = $1 FOR UPDATE",
                          params().add(name));
    bucket b{r.real(0, 0), r.int64(0, 1), r.int64(0, 2)};
    const budget_take taken = draw(b, now, capacity, per_second);
    c.exec("UPDATE budgets SET tokens = $2, updated_at = $3 WHERE name = $1",
           params().add(name).add(b.tokens).add(b.updated_at));
    tx.commit();
    return taken;
}

result<void> pause_budget(connection& c, std::string_view name, millis until) {
    transaction tx(c);
    c.exec("INSERT INTO budgets (name, tokens, updated_at, paused_until) "
           "VALUES ($1, $2, 0, $3) ON CONFLICT (name) DO UPDATE SET "
           "paused_until = GREATEST(budgets.paused_until, excluded.paused_until)",
           params().add(name).add(full_bucket).add(until));
    tx.commit();
    return {};
}

} // namespace stemd::storage::pg
