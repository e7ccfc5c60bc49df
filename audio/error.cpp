#include "audio/error.hpp"

#include <utility>

namespace stemd::audio {

const boost::system::error_category& error_category() noexcept {
    // clang-format off
    static const table_category category("stemd.audio", {
        {int(error::unsupported), "not an audio format stemd decodes", condition::invalid},
        {int(error::malformed), "the audio file is damaged", condition::invalid},
        {int(error::unreadable), "the audio file cannot be read", condition::io},
        {int(error::bad_points), "the number of points is out of range", condition::invalid},
        {int(error::abandoned), "the decode was abandoned", condition::unavailable},
    });
    // clang-format on
    return category;
}

boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), error_category()};
}

stemd::error make_error(error e, std::string message) {
    return {make_error_code(e), std::move(message)};
}

} // namespace stemd::audio
