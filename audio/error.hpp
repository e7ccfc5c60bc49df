#pragma once

// The errors of audio/: a file that is not a format stemd decodes, one
// that claims to be but is broken, one that cannot be read, and a request
// for a picture of an impossible size.

#include "common/error.hpp"

#include <string>
#include <type_traits>

namespace stemd::audio {

enum class error {
    unsupported = 1, // neither WAV nor MP3, or a WAV sample format not decoded (invalid)
    malformed,       // a WAV or MP3 whose header or frames cannot be read (invalid)
    unreadable,      // the file cannot be read from disk (io)
    bad_points,      // a bucket count outside 1..max_points (invalid)
    abandoned,       // the caller went away while decoding (unavailable)
};

const boost::system::error_category& error_category() noexcept;
boost::system::error_code make_error_code(error e) noexcept;

// A failure of audio/ with its explanation.
stemd::error make_error(error e, std::string message);

} // namespace stemd::audio

template <> struct boost::system::is_error_code_enum<stemd::audio::error> : std::true_type {};
