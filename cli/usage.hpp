#pragma once

// The help and usage texts of the `stemd` binary, and how a failed command
// is reported.

#include "cli/command.hpp"
#include "common/error.hpp"

#include <boost/program_options/options_description.hpp>

#include <iosfwd>

namespace stemd::cli {

// Two lines after a command line that named no (known) command.
void print_short_usage(std::ostream& out);

// `stemd --help`: every command, the configuration, the exit codes.
void print_overview(std::ostream& out);

// `stemd NAME --help`.
void print_command_help(std::ostream& out, const command& c,
                        const boost::program_options::options_description& visible);

// Writes `e` to `err` (a usage error with the command's usage line) and
// returns the exit code.
int report(std::ostream& err, const command& c, const stemd::error& e);

} // namespace stemd::cli
