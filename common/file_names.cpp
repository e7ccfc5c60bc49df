#include "common/file_names.hpp"

#include "common/crypto.hpp"

#include <algorithm>
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

namespace {

constexpr std::string_view hash_marker = "_h";
constexpr std::size_t hash_digits = 16;

bool is_hex_digit(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// "..._h" + 16 hex digits: the shape of every encoded name, never kept as it is.
bool looks_encoded(std::string_view name) {
    constexpr std::size_t tail = hash_marker.size() + hash_digits;
    if (name.size() < tail)
        return false;
    const auto suffix = name.substr(name.size() - tail);
    return suffix.substr(0, hash_marker.size()) == hash_marker &&
           std::all_of(suffix.begin() + hash_marker.size(), suffix.end(), is_hex_digit);
}

bool has_upper_case(std::string_view raw) {
    return std::any_of(raw.begin(), raw.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

} // namespace

std::string safe_dir(std::string_view raw) {
    std::string kept = safe_name(raw);
    // Upper case is encoded too: on a case-insensitive file system "A" and
    // "a" would otherwise share one folder.
    if (kept == raw && !looks_encoded(kept) && !has_upper_case(raw))
        return kept;
    constexpr std::size_t tail = hash_marker.size() + hash_digits;
    kept.resize(std::min(kept.size(), max_name_bytes - tail));
    return kept + std::string(hash_marker) + sha256_hex(raw).substr(0, hash_digits);
}

} // namespace stemd
