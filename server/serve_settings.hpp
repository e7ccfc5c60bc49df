#pragma once

// What the daemon's parts are configured with, from stemd.toml.

#include "config/settings.hpp"
#include "jobs/options.hpp"
#include "listener/http_server.hpp"

namespace stemd::server {

jobs::service_options make_service_options(const config::settings& s);
listener::server_limits make_limits(const config::limits_settings& l);

// The API listener's limits: make_limits, plus uploads (multipart POST
// /v1/jobs) spooled to `uploads` up to api.upload_max_bytes.
listener::server_limits make_api_limits(const config::settings& s,
                                        const std::filesystem::path& uploads);

// The folder uploads are spooled to: "uploads" next to storage.database,
// created 0700 (made so when it exists) and emptied of what a stopped
// process left. Throws std::runtime_error naming it when it cannot be made.
std::filesystem::path prepare_uploads(const config::settings& s);

// Logs what the settings leave doubtful (no API key, no public URL, and the
// loader's own warnings).
void warn_about(const config::settings& s);

} // namespace stemd::server
