#pragma once

#include "config/settings.hpp"

namespace stemd::server {

// Runs the daemon (`stemd serve`) until SIGTERM/SIGINT; returns the exit
// code. Throws std::runtime_error with a clear message when it cannot
// start (database, listeners, TLS files).
int run_serve(const config::settings& settings);

} // namespace stemd::server
