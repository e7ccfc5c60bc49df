#include "musicgpt/stem_map.hpp"

#include "common/file_names.hpp"
#include "common/text.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>

namespace stemd::musicgpt {

namespace json = boost::json;

namespace {

constexpr std::size_t max_name_bytes = 64; // safe_name's limit

bool starts_with_ignoring_case(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// Only http(s) links are worth handing to the downloader; anything with
// whitespace or control characters is not a URL a server would send.
bool is_http_url(std::string_view s) {
    std::size_t scheme = 0;
    if (starts_with_ignoring_case(s, "https://")) {
        scheme = 8;
    } else if (starts_with_ignoring_case(s, "http://")) {
        scheme = 7;
    } else {
        return false;
    }
    if (s.size() == scheme) {
        return false;
    }
    for (const char c : s) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte == 0x7F) {
            return false;
        }
    }
    return true;
}

// Builds the list of files while keeping (subdir, name) unique: a second
// link under a taken name gets "-2", "-3", ..., unless it is the very same
// link again (same subdir, name before the suffix, and URL), which is dropped.
// Lookups go through sets and each name remembers its last suffix: one body
// may hold tens of thousands of keys that sanitize alike, and scanning the
// list for every candidate name made that cubic (minutes of CPU per body).
class link_list {
public:
    void add(std::string_view raw_name, std::string_view subdir, std::string_view url) {
        const auto base = safe_name(raw_name);
        if (!seen_.emplace(std::string(subdir), base, std::string(url)).second) {
            return;
        }
        auto name = base;
        if (taken_.contains({std::string(subdir), name})) {
            int& n = last_suffix_[{std::string(subdir), base}];
            do {
                n = std::max(n, 1) + 1;
                name = with_suffix(base, n);
            } while (taken_.contains({std::string(subdir), name}));
        }
        taken_.emplace(std::string(subdir), name);
        urls_.emplace(url);
        links_.push_back({std::move(name), std::string(subdir), std::string(url)});
    }

    bool has_url(std::string_view url) const { return urls_.find(url) != urls_.end(); }

    std::vector<stem_link> take() && { return std::move(links_); }

private:
    using key = std::pair<std::string, std::string>; // subdir, name

    static std::string with_suffix(const std::string& base, int n) {
        const auto suffix = "-" + std::to_string(n);
        // base is ASCII (safe_name made it so), so any cut is a valid one.
        return base.substr(0, max_name_bytes - suffix.size()) + suffix;
    }

    std::vector<stem_link> links_;
    std::set<key> taken_;
    std::map<key, int> last_suffix_; // subdir, base -> last "-N" given
    std::set<std::tuple<std::string, std::string, std::string>> seen_; // subdir, base, url
    std::set<std::string, std::less<>> urls_;
};

// The object behind a stem map: either the value itself or the JSON text
// held in a string (MusicGPT v2 sends the latter).
std::optional<json::object> stem_map_object(const json::value& v) {
    if (const auto* o = v.if_object()) {
        return *o;
    }
    if (const auto* s = v.if_string()) {
        boost::system::error_code ec;
        auto parsed = json::parse(*s, ec);
        if (!ec) {
            if (auto* o = parsed.if_object()) {
                return std::move(*o);
            }
        }
    }
    return std::nullopt;
}

// `skip` holds links whose URLs must not be fetched twice (the WAV map that
// repeats the MP3 links).
void add_stem_map(const json::object& map, std::string_view subdir, link_list& links,
                  const link_list* skip) {
    for (const auto& entry : map) {
        const auto* url = entry.value().if_string();
        if (url == nullptr || !is_http_url(*url)) {
            continue;
        }
        if (skip != nullptr && skip->has_url(*url)) {
            continue;
        }
        links.add(entry.key(), subdir, *url);
    }
}

// audio_url and audio_url_wav: a stem map, a plain URL (one file named
// "audio"), or nothing usable.
void add_audio_field(const json::value& v, std::string_view subdir, link_list& links,
                     const link_list* skip) {
    if (const auto map = stem_map_object(v)) {
        add_stem_map(*map, subdir, links, skip);
        return;
    }
    if (const auto* url = v.if_string(); url != nullptr && is_http_url(*url)) {
        if (skip == nullptr || !skip->has_url(*url)) {
            links.add("audio", subdir, *url);
        }
    }
}

} // namespace

std::optional<std::vector<stem_link>> parse_stem_map(const json::value& v,
                                                     std::string_view subdir) {
    const auto map = stem_map_object(v);
    if (!map) {
        return std::nullopt;
    }
    link_list links;
    add_stem_map(*map, subdir, links, nullptr);
    return std::move(links).take();
}

bool is_stem_key(std::string_view key) {
    // MusicGPT's documented stem names, plus "vocal" of the seed v1 webhook.
    static constexpr std::string_view names[] = {
        "vocal",
        "vocals",
        "male_vocal",
        "female_vocal",
        "lead_vocal",
        "back_vocal",
        "guitar",
        "acoustic_guitar",
        "electric_guitar",
        "rhythm_guitar",
        "solo_guitar",
        "drums",
        "kick_drum",
        "snare_drum",
        "toms",
        "hi_hat",
        "ride",
        "crash",
        "piano",
        "keys",
        "strings",
        "winds",
        "bass",
        "instrumental",
    };
    for (const auto name : names) {
        if (iequals(key, name)) {
            return true;
        }
    }
    return false;
}

std::vector<stem_link> collect_links(const json::object& o) {
    // audio_url first whatever its position, so the WAV map can be checked
    // against it and its files keep the plain names.
    link_list primary;
    if (const auto* v = o.if_contains("audio_url")) {
        add_audio_field(*v, "", primary, nullptr);
    }
    link_list all = primary;
    if (const auto* v = o.if_contains("audio_url_wav")) {
        add_audio_field(*v, "wav", all, &primary);
    }
    // Seed v1 puts one URL per stem at the top level. Only stem names count:
    // any other field (audio_path, the input we sent; an echoed webhook_url;
    // a cover image) is not a result, and fetching it would let a body point
    // stemd at any URL under any name.
    for (const auto& field : o) {
        if (!is_stem_key(field.key())) {
            continue;
        }
        if (const auto* url = field.value().if_string(); url != nullptr && is_http_url(*url)) {
            all.add(field.key(), "", *url);
        }
    }
    return std::move(all).take();
}

} // namespace stemd::musicgpt
