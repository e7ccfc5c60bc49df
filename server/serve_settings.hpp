#pragma once

// What the daemon's parts are configured with, from stemd.toml.

#include "config/settings.hpp"
#include "jobs/options.hpp"
#include "listener/http_server.hpp"
#include "server/api_access.hpp"

namespace stemd::server {

// The S3 output of settings whose storage.output is s3:// (keys resolved).
jobs::s3_output_options make_s3_output(const config::settings& s);

jobs::service_options make_service_options(const config::settings& s);
listener::server_limits make_limits(const config::limits_settings& l);
// Raises the soft RLIMIT_NOFILE to the hard limit and, when the daemon's two
// listeners of max_connections each (plus descriptors for everything else)
// would still not fit under it, lowers max_connections and logs both numbers.
listener::server_limits fit_to_file_limit(listener::server_limits limits);

// The API listener's limits: `base`, plus `access` checked on every
// request's header before its body is read, and uploads (multipart POST
// /v1/jobs) that pass it spooled to `uploads` up to api.upload_max_bytes.
// `access` must outlive the listener.
listener::server_limits make_api_limits(listener::server_limits base, const config::settings& s,
                                        const std::filesystem::path& uploads,
                                        const api_access& access);

// The folder uploads are spooled to: "uploads" next to storage.database,
// created 0700 (made so when it exists) and emptied of what a stopped
// process left. Throws std::runtime_error naming it when it cannot be made.
std::filesystem::path prepare_uploads(const config::settings& s);

// Logs what the settings leave doubtful (no API key, no public URL, and the
// loader's own warnings).
void warn_about(const config::settings& s);

} // namespace stemd::server
