#include "client/s3_xml.hpp"

#include <charconv>

namespace stemd::client::s3_xml {

namespace {

void append_utf8(std::string& out, unsigned long cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// One entity at the start of `s` ("&amp;" ...): appends its character and
// returns its length, or 0 when it is not one we know (kept as written).
std::size_t decode_entity(std::string_view s, std::string& out) {
    static constexpr std::pair<std::string_view, char> named[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    for (const auto& [name, c] : named) {
        if (s.starts_with(name)) {
            out += c;
            return name.size();
        }
    }
    const std::size_t end = s.find(';');
    if (!s.starts_with("&#") || end == std::string_view::npos || end > 12)
        return 0;
    const bool hex = s.size() > 2 && (s[2] == 'x' || s[2] == 'X');
    const char* first = s.data() + (hex ? 3 : 2);
    unsigned long cp = 0;
    const auto [ptr, ec] = std::from_chars(first, s.data() + end, cp, hex ? 16 : 10);
    if (ec != std::errc{} || ptr != s.data() + end || cp == 0 || cp > 0x10FFFF)
        return 0;
    append_utf8(out, cp);
    return end + 1;
}

std::string decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        if (s[i] == '&') {
            if (const std::size_t n = decode_entity(s.substr(i), out)) {
                i += n;
                continue;
            }
        }
        out += s[i++];
    }
    return out;
}

} // namespace

std::optional<std::string> text(std::string_view xml, std::string_view tag, std::size_t from) {
    const std::string open = "<" + std::string(tag) + ">";
    const std::string close = "</" + std::string(tag) + ">";
    const std::size_t start = xml.find(open, from);
    if (start == std::string_view::npos)
        return std::nullopt;
    const std::size_t body = start + open.size();
    const std::size_t end = xml.find(close, body);
    if (end == std::string_view::npos || end - body > max_text)
        return std::nullopt;
    return decode(xml.substr(body, end - body));
}

std::vector<std::pair<std::string, std::string>> uploads(std::string_view xml) {
    std::vector<std::pair<std::string, std::string>> found;
    std::size_t at = 0;
    while (found.size() < max_uploads) {
        const std::size_t start = xml.find("<Upload>", at);
        if (start == std::string_view::npos)
            break;
        const std::size_t end = xml.find("</Upload>", start);
        if (end == std::string_view::npos)
            break;
        const std::string_view one = xml.substr(start, end - start);
        auto key = text(one, "Key");
        auto id = text(one, "UploadId");
        if (key && id)
            found.emplace_back(std::move(*key), std::move(*id));
        at = end + 9;
    }
    return found;
}

bool is_error(std::string_view xml) {
    std::size_t at = 0;
    // Skip the declaration and blanks before the root element.
    if (xml.starts_with("<?")) {
        const std::size_t end = xml.find("?>");
        at = end == std::string_view::npos ? xml.size() : end + 2;
    }
    while (at < xml.size() &&
           (xml[at] == ' ' || xml[at] == '\n' || xml[at] == '\r' || xml[at] == '\t'))
        ++at;
    return xml.substr(at).starts_with("<Error>");
}

std::string escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

} // namespace stemd::client::s3_xml
