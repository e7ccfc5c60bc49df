#pragma once

#include <boost/system/error_code.hpp>

#include <string>
#include <type_traits>

namespace stemd::config {

// Why a configuration could not be loaded. The accompanying message (see
// `problem`) names the file, the key and the reason; the code lets callers and
// tests tell the cases apart without parsing text.
enum class error {
    file_unreadable = 1, // the file could not be opened or read
    syntax,              // the file is not valid TOML
    unknown_key,         // a table or key stemd does not know (typo guard)
    bad_value,           // a known key with a value of the wrong type or range
    secret_unreadable,   // api_key_file could not be read
};

const boost::system::error_category& error_category() noexcept;
boost::system::error_code make_error_code(error e) noexcept;

// An error code together with a sentence a person can act on.
struct problem {
    boost::system::error_code code;
    std::string message;
};

// Lets boost::system::result<T, problem>::value() throw something useful.
[[noreturn]] void throw_exception_from_error(const problem& p,
                                             const boost::source_location& loc);

} // namespace stemd::config

template <>
struct boost::system::is_error_code_enum<stemd::config::error> : std::true_type {};
