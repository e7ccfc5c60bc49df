#pragma once

// MusicGPT's webhook bodies and status records, read into a report.

#include "common/error.hpp"
#include "musicgpt/report.hpp"

#include <string_view>

namespace boost::json {
class value;
}

namespace stemd::musicgpt {

// Pure function from the raw webhook bytes to what they mean. Accepts the
// three documented shapes (seed v1 with top-level stem URLs, v2 with
// audio_url/audio_url_wav stem maps as objects or strings holding JSON, and
// the generic status shape with a plain audio_url). Links, for a succeeded
// report only, as collect_links (musicgpt/stem_map.hpp) lists them.
// Failures are musicgpt::error codes (condition invalid) with a message fit
// for a 400 body.
result<report> parse_webhook(std::string_view body);

// The same rules applied to an already parsed object (a byId answer's
// `conversion` record).
result<report> parse_record(const boost::json::value& record);

} // namespace stemd::musicgpt
