#include "config/quoted.hpp"

namespace stemd::config {

namespace {

std::string without_query(std::string_view text) {
    if (text.find("://") == std::string_view::npos) {
        return std::string(text);
    }
    const auto cut = text.find_first_of("?#");
    if (cut == std::string_view::npos) {
        return std::string(text);
    }
    return std::string(text.substr(0, cut)) + "?...";
}

} // namespace

std::string toml_quoted(std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "\"";
    for (const char c : without_query(text)) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20 || byte == 0x7f) {
            out += "\\u00";
            out += hex[byte >> 4];
            out += hex[byte & 0xf];
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

} // namespace stemd::config
