#pragma once

// What the daemon's parts are configured with, from stemd.toml.

#include "config/settings.hpp"
#include "jobs/options.hpp"
#include "listener/http_server.hpp"

namespace stemd::server {

jobs::service_options make_service_options(const config::settings& s);
listener::server_limits make_limits(const config::limits_settings& l);
// Raises the soft RLIMIT_NOFILE to the hard limit and, when the daemon's two
// listeners of max_connections each (plus descriptors for everything else)
// would still not fit under it, lowers max_connections and logs both numbers.
listener::server_limits fit_to_file_limit(listener::server_limits limits);

// Logs what the settings leave doubtful (no API key, no public URL, and the
// loader's own warnings).
void warn_about(const config::settings& s);

} // namespace stemd::server
