#include "musicgpt/fields.hpp"

#include "common/json_text.hpp"
#include "common/text.hpp"

#include <boost/json.hpp>

#include <charconv>

namespace stemd::musicgpt {

namespace json = boost::json;

namespace {

// The cut of a long text may fall inside a multi-byte character.
void drop_incomplete_utf8_tail(std::string& text) {
    auto byte_at = [&](std::size_t i) {
        return static_cast<unsigned char>(text[i]);
    };
    std::size_t lead = text.size();
    while (lead > 0 && (byte_at(lead - 1) & 0xC0) == 0x80)
        --lead;
    if (lead == 0 || byte_at(lead - 1) < 0xC0)
        return;
    const unsigned char first = byte_at(lead - 1);
    const std::size_t length = first >= 0xF0 ? 4 : first >= 0xE0 ? 3 : 2;
    if (text.size() - (lead - 1) < length)
        text.resize(lead - 1);
}

} // namespace

std::string kind_name(const json::value& v) {
    switch (v.kind()) {
    case json::kind::object:
        return "object";
    case json::kind::array:
        return "array";
    case json::kind::string:
        return "string";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
        return "number";
    case json::kind::bool_:
        return "boolean";
    case json::kind::null:
        return "null";
    }
    return "value";
}

std::optional<double> number_in(const json::value* v) {
    if (v == nullptr)
        return std::nullopt;
    if (v->is_number())
        return v->to_number<double>();
    const auto* s = v->if_string();
    if (s == nullptr)
        return std::nullopt;
    const std::string_view text = trim(*s);
    double d = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
        return std::nullopt;
    return d;
}

std::string text_of(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || v->is_null())
        return {};
    if (const auto* s = v->if_string())
        return std::string(*s);
    return json_text(*v);
}

std::string printable(std::string_view text, std::size_t limit) {
    std::string out;
    std::size_t used = 0;
    for (; used < text.size() && out.size() < limit; ++used) {
        const auto byte = static_cast<unsigned char>(text[used]);
        if (byte <= 0x20 || byte == 0x7F) {
            if (!out.empty() && out.back() != ' ')
                out += ' ';
        } else {
            out += text[used];
        }
    }
    if (used < text.size())
        drop_incomplete_utf8_tail(out);
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    if (used < text.size())
        out += "...";
    return out;
}

} // namespace stemd::musicgpt
