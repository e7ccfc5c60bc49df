#pragma once

namespace stemd::cli {

// The whole command line of the `stemd` binary: serve, simulate, submit,
// status, list, wait, retry, help, --help, --version. Returns the process
// exit code: 0 success, 1 failure (e.g. `wait` on a failed job, API
// unreachable), 2 usage error.
int run_cli(int argc, char** argv);

} // namespace stemd::cli
