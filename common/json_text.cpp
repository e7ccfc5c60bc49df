#include "common/json_text.hpp"

#include <boost/json/serialize.hpp>

#include <charconv>
#include <cmath>

namespace stemd {

namespace json = boost::json;

namespace {

void write(const json::value& v, std::string& out) {
    switch (v.kind()) {
    case json::kind::double_:
        out += json_number(v.get_double());
        return;
    case json::kind::array: {
        out += '[';
        bool first = true;
        for (const auto& item : v.get_array()) {
            out += first ? "" : ",";
            first = false;
            write(item, out);
        }
        out += ']';
        return;
    }
    case json::kind::object: {
        out += '{';
        bool first = true;
        for (const auto& [key, item] : v.get_object()) {
            out += first ? "" : ",";
            first = false;
            out += json::serialize(json::string_view(key)); // quoted, escaped
            out += ':';
            write(item, out);
        }
        out += '}';
        return;
    }
    default: // strings, integers, booleans, null: Boost.JSON's text is right
        out += json::serialize(v);
    }
}

} // namespace

std::string json_number(double v) {
    if (!std::isfinite(v))
        return "null";
    if (v == 0)
        return "0"; // and not "-0"
    // Fixed notation, shortest digits that read back as v.
    char buf[400];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
    return ec == std::errc() ? std::string(buf, end) : "null";
}

std::string json_text(const json::value& v) {
    std::string out;
    write(v, out);
    return out;
}

} // namespace stemd
