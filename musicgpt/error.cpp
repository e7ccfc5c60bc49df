#include "musicgpt/error.hpp"

namespace stemd::musicgpt {

const boost::system::error_category& error_category() noexcept {
    // A webhook body that cannot be read is the sender's mistake; an API
    // answer that cannot be used may be a passing fault of MusicGPT's.
    static const table_category category(
        "stemd.musicgpt",
        {
            {int(error::malformed_payload), "the payload is not a JSON object", condition::invalid},
            {int(error::missing_field), "a required field is missing or empty", condition::invalid},
            {int(error::bad_field), "a field has the wrong type or an unusable value",
             condition::invalid},
            {int(error::bad_answer), "MusicGPT's answer lacks what it must carry",
             condition::unavailable},
        });
    return category;
}

boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), error_category()};
}

} // namespace stemd::musicgpt
