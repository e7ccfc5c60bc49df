#include "server/file_names.hpp"

#include <array>
#include <cstddef>

namespace stemd::server {

namespace {

constexpr std::size_t max_name_bytes = 64;

bool is_kept(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

bool is_utf8_continuation(unsigned char c) {
    return (c & 0xC0) == 0x80;
}

char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = ascii_lower(c);
    }
    return out;
}

std::string_view trim_spaces(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

// The path of a URL: what lies between the authority and the query or
// fragment. A string without "://" is taken as a bare path.
std::string_view url_path(std::string_view url) {
    url = url.substr(0, url.find_first_of("?#"));
    if (const auto scheme_end = url.find("://"); scheme_end != std::string_view::npos) {
        const auto path_start = url.find('/', scheme_end + 3);
        if (path_start == std::string_view::npos) {
            return {};
        }
        url.remove_prefix(path_start);
    }
    return url;
}

} // namespace

std::string safe_name(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    bool previous_was_non_ascii = false;
    for (const char c : raw) {
        const auto byte = static_cast<unsigned char>(c);
        // One '_' per multi-byte character rather than one per byte, so
        // "café" reads as "caf_" instead of "caf__".
        if (is_utf8_continuation(byte) && previous_was_non_ascii) {
            continue;
        }
        previous_was_non_ascii = byte >= 0x80;
        out.push_back(is_kept(c) ? c : '_');
    }
    // A leading dot would hide the file and also covers "." and "..".
    out.erase(0, out.find_first_not_of('.'));
    // Everything left is ASCII, so any cut is on a UTF-8 boundary.
    if (out.size() > max_name_bytes) {
        out.resize(max_name_bytes);
    }
    if (out.empty()) {
        out = "file";
    }
    return out;
}

std::string safe_dir(std::string_view raw) {
    return safe_name(raw);
}

std::string extension_from_url(std::string_view url) {
    static constexpr std::array<std::string_view, 13> audio_extensions{
        "mp3", "wav",  "flac", "ogg",  "oga", "opus", "m4a",
        "aac", "aiff", "aif",  "webm", "mp4", "wma"};

    const auto path = url_path(url);
    const auto segment = path.substr(path.rfind('/') + 1); // npos + 1 == 0
    const auto dot = segment.rfind('.');
    if (dot == std::string_view::npos || dot == 0) {
        return {};
    }
    const auto extension = ascii_lower(segment.substr(dot + 1));
    for (const auto known : audio_extensions) {
        if (extension == known) {
            return extension;
        }
    }
    return {};
}

std::string extension_from_content_type(std::string_view content_type) {
    struct mapping {
        std::string_view type;
        std::string_view extension;
    };
    static constexpr std::array<mapping, 16> known{{
        {"audio/mpeg", "mp3"},
        {"audio/mp3", "mp3"},
        {"audio/wav", "wav"},
        {"audio/x-wav", "wav"},
        {"audio/wave", "wav"},
        {"audio/vnd.wave", "wav"},
        {"audio/flac", "flac"},
        {"audio/x-flac", "flac"},
        {"audio/ogg", "ogg"},
        {"audio/opus", "opus"},
        {"audio/aac", "aac"},
        {"audio/mp4", "m4a"},
        {"audio/x-m4a", "m4a"},
        {"audio/aiff", "aiff"},
        {"audio/x-aiff", "aiff"},
        {"audio/webm", "webm"},
    }};

    const auto media_type =
        ascii_lower(trim_spaces(content_type.substr(0, content_type.find(';'))));
    for (const auto& [type, extension] : known) {
        if (media_type == type) {
            return std::string(extension);
        }
    }
    return {};
}

} // namespace stemd::server
