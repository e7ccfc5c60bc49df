#pragma once

// LISTEN/NOTIFY as a latency hint: a connection of its own that listens on
// the channel the PostgreSQL store notifies after a commit that made work
// runnable (new files, a planned look-up, a final job), and calls `wake`
// when a notification arrives, so an idle process starts at once instead
// of at its next poll. Only a hint: every process still polls, and a
// server without NOTIFY (or a lost connection, retried with back-off)
// only makes it slower. Runs on the caller's executor; included only by
// .cpp files (it pulls in Asio).

#include "storage/pg_connection.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <functional>

namespace stemd::storage::pg {

// The channel pg_store notifies (SELECT pg_notify(work_channel, '')).
inline constexpr const char* work_channel = "stemd_work";

// Listens until the coroutine is cancelled (the serving loop stops);
// never throws: failures are logged and the connection retried.
boost::asio::awaitable<void> listen_for_work(connection_options options,
                                             std::function<void()> wake);

} // namespace stemd::storage::pg
