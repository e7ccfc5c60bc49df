#pragma once

// What the daemon's parts are configured with, from stemd.toml.

#include "config/settings.hpp"
#include "jobs/options.hpp"
#include "listener/http_server.hpp"

namespace stemd::server {

jobs::service_options make_service_options(const config::settings& s);
listener::server_limits make_limits(const config::limits_settings& l);

// Logs what the settings leave doubtful (no API key, no public URL, and the
// loader's own warnings).
void warn_about(const config::settings& s);

} // namespace stemd::server
