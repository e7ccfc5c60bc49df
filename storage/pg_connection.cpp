#include "storage/pg_connection.hpp"

// Not built yet: connecting fails loudly (replaced by the libpq code).

namespace stemd::storage::pg {

connection::connection(connection_options o) : options_(std::move(o)) { // NOLINT
    throw pg_error("pg_connection: not built yet", "", true);
}
connection::~connection() = default;
void conn_closer::operator()(pg_conn*) const noexcept {}
void result_deleter::operator()(pg_result*) const noexcept {}

} // namespace stemd::storage::pg
