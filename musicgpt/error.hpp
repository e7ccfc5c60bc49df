#pragma once

#include "common/error.hpp"

namespace stemd::musicgpt {

enum class error {
    malformed_payload = 1, // not JSON, or not a JSON object
    missing_field,         // a required field (task_id) is absent or empty
    bad_field,             // a field has the wrong type or an unusable value
    bad_answer,            // an API answer that lacks what it must carry
};

const boost::system::error_category& error_category() noexcept;
boost::system::error_code make_error_code(error e) noexcept;

} // namespace stemd::musicgpt

template <> struct boost::system::is_error_code_enum<stemd::musicgpt::error> : std::true_type {};
