#pragma once

#include "musicgpt/report.hpp"
#include "server/error.hpp"

#include <boost/system/result.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boost::json {
class value;
}

namespace stemd::server {

// The parsed form of a delivery (see musicgpt/report.hpp).
using stem_link = musicgpt::stem_link;
using payload = musicgpt::report;

// A parse failure: the code plus a reason fit for a 400 body.
struct payload_problem {
    boost::system::error_code code;
    std::string reason;
};
[[noreturn]] void throw_exception_from_error(const payload_problem& p,
                                             const boost::source_location& loc);

// Pure function from the raw webhook bytes to what they mean. Accepts the
// three documented shapes (seed v1 with top-level stem URLs, v2 with
// audio_url/audio_url_wav stem maps as objects or strings holding JSON, and
// the generic status shape with a plain audio_url).
// Links, for a succeeded payload only, in this order: audio_url (its stem map,
// or one file "audio" when it is a plain URL), then audio_url_wav into subdir
// "wav" (same forms, minus URLs audio_url already gave), then every other
// top-level http(s) string field except audio_path (the input we sent), in
// the order they appear.
boost::system::result<payload, payload_problem> parse_webhook(std::string_view body);

// The same rules applied to an already parsed object (used for byId answers'
// `conversion` record).
boost::system::result<payload, payload_problem> parse_record(const boost::json::value& record);

// A stem map: a JSON object, or a string holding one, of name -> URL.
// Returns nullopt when `v` is neither (e.g. a plain URL string).
std::optional<std::vector<stem_link>> parse_stem_map(const boost::json::value& v,
                                                     std::string_view subdir);

} // namespace stemd::server
