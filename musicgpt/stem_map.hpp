#pragma once

// Which files a MusicGPT record names, and under which safe names.

#include "musicgpt/report.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace boost::json {
class object;
class value;
} // namespace boost::json

namespace stemd::musicgpt {

// A stem map: a JSON object, or a string holding one, of name -> URL.
// Returns nullopt when `v` is neither (e.g. a plain URL string).
std::optional<std::vector<stem_link>> parse_stem_map(const boost::json::value& v,
                                                     std::string_view subdir);

// The links of a succeeded record, in this order: audio_url (its stem map,
// or one file "audio" when it is a plain URL), then audio_url_wav into
// subdir "wav" (same forms, minus URLs audio_url already gave), then every
// other top-level http(s) string field except audio_path (the input we
// sent), in the order they appear. Names are unique within their subdir.
// Fields of a type that cannot hold links are skipped (the caller checks
// types).
std::vector<stem_link> collect_links(const boost::json::object& record);

} // namespace stemd::musicgpt
