#pragma once

#include "common/error.hpp"

#include <boost/system/error_code.hpp>

#include <string>
#include <type_traits>

namespace stemd::config {

// Why a configuration could not be loaded. The message of the accompanying
// stemd::error names the file, the key and the reason; the code lets callers
// and tests tell the cases apart without parsing text.
enum class error {
    file_unreadable = 1, // the file could not be opened or read (condition::io)
    syntax,              // the file is not valid TOML (condition::invalid)
    unknown_key,         // a table or key stemd does not know, a typo guard (condition::invalid)
    bad_value,           // a known key with a value of the wrong type or range (condition::invalid)
    secret_unreadable,   // api_key_file could not be read, or is empty (condition::io)
};

const boost::system::error_category& error_category() noexcept;
boost::system::error_code make_error_code(error e) noexcept;

// A failure of kind `code` with the sentence a person acts on.
stemd::error failure(error code, std::string message);

} // namespace stemd::config

template <> struct boost::system::is_error_code_enum<stemd::config::error> : std::true_type {};
