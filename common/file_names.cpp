#include "common/file_names.hpp"

#include <cstddef>

namespace stemd {

namespace {

constexpr std::size_t max_name_bytes = 64;

bool is_kept(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

bool is_utf8_continuation(unsigned char c) {
    return (c & 0xC0) == 0x80;
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

} // namespace stemd
