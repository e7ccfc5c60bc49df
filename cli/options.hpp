#pragma once

// The options of the commands: how they are declared, parsed and checked.
// Whole numbers and durations are parsed here rather than by
// program_options, which would read "-1" as a huge unsigned number.

#include "cli/api_address.hpp"
#include "common/error.hpp"

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/positional_options.hpp>
#include <boost/program_options/variables_map.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stemd::cli {

struct option_set {
    boost::program_options::options_description visible{"options"};
    boost::program_options::options_description hidden;
    boost::program_options::positional_options_description positional;

    // An option that takes a value, shown as `value_name` in the help.
    void value(const char* name, const char* value_name, const char* text);
    void value(const char* name, const char* value_name, const std::string& default_value,
               const char* text);
    // A list option: repeatable and comma separated ("a,b" "c").
    void list(const char* name, const char* value_name, const char* text);
    void flag(const char* name, const char* text);
};

// What every client command (submit, status, list, wait, retry) takes:
// --json, --api URL, --config FILE, --token-file FILE.
void add_client_options(option_set& o);
// The job KEY as the one positional argument.
void add_key_argument(option_set& o);
void add_timeout_option(option_set& o, const char* text);

// The command line after the command name, against `options` (with no
// abbreviations of option names); failures are usage errors.
result<boost::program_options::variables_map> parse_arguments(const option_set& options,
                                                              const std::vector<std::string>& args);

result<std::uint64_t> parse_count(const std::string& text, std::string_view option);
result<std::chrono::milliseconds> parse_seconds(const std::string& text, std::string_view option);
// A whole number with a unit: "90s", "90m", "12h", "30d" or "2w"; a usage
// error naming the option otherwise.
result<std::chrono::seconds> parse_duration(const std::string& text, std::string_view option);

std::optional<std::string> optional_string(const boost::program_options::variables_map& vm,
                                           const char* name);
std::optional<std::filesystem::path> config_path(const boost::program_options::variables_map& vm);
// --json of a client command.
bool json_wanted(const boost::program_options::variables_map& vm);
// --api, --config and --token-file of a client command.
api_address api_address_of(const boost::program_options::variables_map& vm);

// The items given to a list option, or nullopt when it is absent; a usage
// error when given without any item.
result<std::optional<std::vector<std::string>>>
list_option(const boost::program_options::variables_map& vm, const char* name,
            std::string_view example);

// --timeout SECONDS, or nullopt when absent.
result<std::optional<std::chrono::milliseconds>>
timeout_option(const boost::program_options::variables_map& vm);

// The job KEY of `stemd <command> KEY`; a usage error when missing.
result<std::string> job_key(const boost::program_options::variables_map& vm,
                            std::string_view command);

} // namespace stemd::cli
