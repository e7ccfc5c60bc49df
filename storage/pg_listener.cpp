#include "storage/pg_listener.hpp"

// Not built yet (replaced by the LISTEN loop).

namespace stemd::storage::pg {

boost::asio::awaitable<void> listen_for_work(connection_options, std::function<void()>) {
    co_return;
}

} // namespace stemd::storage::pg
