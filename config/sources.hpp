#pragma once

// Where configuration text comes from besides the TOML itself: whole files
// (the config file, api_key_file) and environment variables.

#include <boost/system/result.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace stemd::config {

// The whole file, or the errno of open()/read() as a system error code: its
// text is what tells a person whether the path or the permissions are wrong.
boost::system::result<std::string> read_whole_file(const std::filesystem::path& path);

// The variable's value; nullopt when it is unset or empty.
std::optional<std::string> environment_variable(std::string_view name);

} // namespace stemd::config
