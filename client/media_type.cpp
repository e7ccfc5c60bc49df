#include "client/media_type.hpp"

#include "common/text.hpp"

namespace stemd::client {

namespace {

struct media_type {
    std::string_view extension;
    std::string_view content_type;
};

// Both directions take the first matching row, so the first row of an
// extension names its Content-Type and the first row of a Content-Type its
// extension ("audio/mp4" is "m4a", while an ".mp4" upload is "audio/mp4").
constexpr media_type media_types[] = {
    {"mp3", "audio/mpeg"},  {"mp3", "audio/mp3"},      {"wav", "audio/wav"},
    {"wav", "audio/x-wav"}, {"wav", "audio/wave"},     {"wav", "audio/vnd.wave"},
    {"flac", "audio/flac"}, {"flac", "audio/x-flac"},  {"ogg", "audio/ogg"},
    {"oga", "audio/ogg"},   {"opus", "audio/opus"},    {"m4a", "audio/mp4"},
    {"m4a", "audio/x-m4a"}, {"mp4", "audio/mp4"},      {"aac", "audio/aac"},
    {"aiff", "audio/aiff"}, {"aiff", "audio/x-aiff"},  {"aif", "audio/aiff"},
    {"webm", "audio/webm"}, {"wma", "audio/x-ms-wma"},
};

const media_type* by_extension(std::string_view extension) {
    for (const auto& m : media_types)
        if (m.extension == extension)
            return &m;
    return nullptr;
}

// The path of a URL: what lies between the authority and the query or
// fragment. A string without "://" is taken as a bare path.
std::string_view url_path(std::string_view url) {
    url = url.substr(0, url.find_first_of("?#"));
    if (const auto scheme_end = url.find("://"); scheme_end != std::string_view::npos) {
        const auto path_start = url.find('/', scheme_end + 3);
        if (path_start == std::string_view::npos)
            return {};
        url.remove_prefix(path_start);
    }
    return url;
}

} // namespace

std::string extension_from_url(std::string_view url) {
    const auto path = url_path(url);
    const auto segment = path.substr(path.rfind('/') + 1); // npos + 1 == 0
    const auto dot = segment.rfind('.');
    if (dot == std::string_view::npos || dot == 0)
        return {};
    const auto extension = lowercase(segment.substr(dot + 1));
    return by_extension(extension) != nullptr ? extension : std::string();
}

std::string extension_from_content_type(std::string_view content_type) {
    const auto type = lowercase(trim(content_type.substr(0, content_type.find(';'))));
    for (const auto& m : media_types)
        if (m.content_type == type)
            return std::string(m.extension);
    return {};
}

std::string audio_content_type(const std::filesystem::path& file) {
    const std::string extension = file.extension().string();
    if (extension.size() > 1) {
        if (const auto* m = by_extension(lowercase(std::string_view(extension).substr(1))))
            return std::string(m->content_type);
    }
    return "application/octet-stream";
}

} // namespace stemd::client
