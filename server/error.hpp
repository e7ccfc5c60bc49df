#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace stemd::server {

enum class error {
    bad_request = 1, // a local API request that cannot be served
};

const boost::system::error_category& error_category() noexcept;
boost::system::error_code make_error_code(error e) noexcept;

} // namespace stemd::server

template <>
struct boost::system::is_error_code_enum<stemd::server::error> : std::true_type {};
