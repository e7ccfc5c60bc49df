#pragma once

// POST /v1/prune: retention by hand (`stemd prune`). The body is
// {"older_than_seconds": N, "dry_run": bool, "delete_files": bool}; only
// older_than_seconds is required, delete_files defaults to
// retention.delete_files, and a dry run never removes a file. The answer
// counts what was (or would be) removed and lists the first jobs.
// Included only by .cpp files.

#include "listener/http_server.hpp"

namespace stemd::jobs {
class service;
}

namespace stemd::server {

boost::asio::awaitable<listener::response> prune_jobs(jobs::service& service,
                                                      const listener::request& req);

} // namespace stemd::server
