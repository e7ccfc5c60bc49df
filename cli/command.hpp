#pragma once

// A command of the `stemd` binary: its help texts, its options and what it
// does. Each lives in its own .cpp file; cli.cpp dispatches to them.

#include "cli/options.hpp"
#include "common/error.hpp"

#include <boost/program_options/variables_map.hpp>

#include <functional>
#include <span>
#include <string_view>

namespace stemd::cli {

struct command {
    std::string_view name;
    std::string_view synopsis; // what follows "stemd NAME" in a usage line
    std::string_view summary;  // one line in the overview
    std::string_view details;  // printed after the options by `stemd NAME --help`
    // Adds the command's own options to those every command has (--help).
    void (*describe)(option_set&);
    // Runs the parsed command; the int is the exit code.
    result<int> (*run)(const boost::program_options::variables_map&);
};

const command& serve_command();
const command& simulate_command();
const command& submit_command();
const command& status_command();
const command& list_command();
const command& wait_command();
const command& retry_command();
const command& prune_command();
const command& logs_command();
const command& doctor_command();
const command& open_command();
const command& notify_command();

// All of them, in the order of the overview.
std::span<const command* const> all_commands();

// The command called `name`, or nullptr.
const command* find_command(std::string_view name);

// Runs the entry point of a long-running command (serve, simulate), which
// throws when it cannot start: that is reported as "stemd NAME: cannot
// start: ..." with exit code 1.
int run_entry_point(std::string_view name, const std::function<int()>& entry);

} // namespace stemd::cli
