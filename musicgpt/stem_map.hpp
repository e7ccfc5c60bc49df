#pragma once

// Which files a MusicGPT record names, and under which safe names.

#include "musicgpt/report.hpp"

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace boost::json {
class object;
class value;
} // namespace boost::json

namespace stemd::musicgpt {

// More links than this in one report is not a stem separation (MusicGPT
// knows 23 stems, twice with the WAV map): the report is refused.
inline constexpr std::size_t max_links_per_report = 64;

// A stem map: a JSON object, or a string holding one, of name -> URL.
// Returns nullopt when `v` is neither (e.g. a plain URL string).
std::optional<std::vector<stem_link>> parse_stem_map(const boost::json::value& v,
                                                     std::string_view subdir);

// Whether a top-level field of a record names a stem (MusicGPT's
// documented stem names and the seed v1 "vocal"; any case).
bool is_stem_key(std::string_view key);

// The links of a succeeded record, in this order: audio_url (its stem map,
// or one file "audio" when it is a plain URL), then audio_url_wav into
// subdir "wav" (same forms, minus URLs audio_url already gave), then the
// top-level http(s) string fields whose key is_stem_key, in the order they
// appear. Nothing else is a link: not audio_path (the input we sent), not
// webhook_url, not a cover image. Names are unique within their subdir.
// Fields of a type that cannot hold links are skipped (the caller checks
// types). The caller caps how many it accepts (max_links_per_report).
std::vector<stem_link> collect_links(const boost::json::object& record);

} // namespace stemd::musicgpt
