#pragma once

// The checks of `stemd doctor` that must be made by whoever holds the key
// and runs the downloads: the running daemon makes them for POST
// /v1/doctor (as its own user, with the key it read), and the CLI makes
// them itself only when the daemon does not answer. Included only by .cpp
// files.

#include "client/musicgpt_client.hpp"
#include "server/doctor_checks.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace stemd::server {

// "api key" and "clock": a byId look-up of a task that cannot exist (404
// means the key works) and the Date of that answer. Network waits are
// bounded by `options.connect`.
boost::asio::awaitable<std::vector<check>> musicgpt_checks(client::musicgpt_options options,
                                                           boost::asio::ssl::context& tls);

// "output dir": a file made and removed in `dir` (or the nearest folder
// above it that exists), and the free space there. The message starts with
// `by` (who tried: "the daemon", "this command") and the user it runs as.
check output_dir_probe(const std::filesystem::path& dir, std::int64_t max_bytes,
                       std::string_view by);

// "database" of a PostgreSQL store (storage.database a URI): connects as
// `stemd serve` would (the same password file) and reads the schema
// version, which it never changes. Bounded by the connection's timeout.
check database_probe(const std::string& uri);

// The name of the user this process runs as (the uid when it has none).
std::string effective_user();

} // namespace stemd::server
