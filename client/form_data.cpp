#include "client/form_data.hpp"

#include "client/error.hpp"
#include "common/text.hpp"

#include <algorithm>
#include <utility>

namespace stemd::client {

namespace {

stemd::error malformed(std::string message) {
    return {make_error_code(error::bad_form), std::move(message)};
}

// A quoted string at the front of `rest` (which starts with '"'), unescaped;
// `rest` is left after the closing quote. nullopt when it is not closed.
std::optional<std::string> take_quoted(std::string_view& rest) {
    std::string value;
    std::size_t i = 1;
    for (; i < rest.size() && rest[i] != '"'; ++i) {
        if (rest[i] == '\\' && i + 1 < rest.size()) {
            ++i;
        }
        value.push_back(rest[i]);
    }
    if (i >= rest.size()) {
        return std::nullopt;
    }
    rest.remove_prefix(i + 1);
    return value;
}

// `rest` from `at` on, or "" when `at` is npos.
std::string_view from(std::string_view rest, std::size_t at) {
    return at == std::string_view::npos ? std::string_view{} : rest.substr(at);
}

} // namespace

std::optional<std::map<std::string, std::string>> parse_parameters(std::string_view rest) {
    std::map<std::string, std::string> out;
    while (true) {
        rest = trim(rest);
        if (rest.empty()) {
            return out;
        }
        if (rest.front() != ';') {
            return std::nullopt;
        }
        rest = trim(rest.substr(1));
        const auto name_end = rest.find_first_of("=;");
        std::string name = lowercase(trim(rest.substr(0, name_end)));
        if (name_end == std::string_view::npos || rest[name_end] == ';') {
            rest = from(rest, name_end);
            out.emplace(std::move(name), std::string{});
            continue;
        }
        rest = trim(rest.substr(name_end + 1));
        std::string value;
        if (!rest.empty() && rest.front() == '"') {
            auto quoted = take_quoted(rest);
            if (!quoted) {
                return std::nullopt;
            }
            value = std::move(*quoted);
        } else {
            const auto value_end = rest.find(';');
            value = trim(rest.substr(0, value_end));
            rest = from(rest, value_end);
        }
        out.emplace(std::move(name), std::move(value));
    }
}

std::string form_boundary(std::string_view content_type) {
    const auto semicolon = content_type.find(';');
    if (!iequals(trim(content_type.substr(0, semicolon)), "multipart/form-data") ||
        semicolon == std::string_view::npos) {
        return {};
    }
    const auto params = parse_parameters(content_type.substr(semicolon));
    if (!params) {
        return {};
    }
    const auto it = params->find("boundary");
    // RFC 2046 allows 1 to 70 characters.
    if (it == params->end() || it->second.empty() || it->second.size() > 70) {
        return {};
    }
    return it->second;
}

namespace {

// Reads one part's header block for the part's name.
result<void> read_part_headers(std::string_view block, form_part& part) {
    bool has_disposition = false;
    while (!block.empty()) {
        const auto eol = block.find("\r\n");
        const std::string_view line = block.substr(0, eol);
        block = eol == std::string_view::npos ? std::string_view{} : block.substr(eol + 2);
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            return malformed("a part header line has no ':'");
        }
        if (!iequals(trim(line.substr(0, colon)), "content-disposition")) {
            continue;
        }
        const std::string_view value = trim(line.substr(colon + 1));
        const auto semicolon = value.find(';');
        const auto params = parse_parameters(from(value, semicolon));
        if (!iequals(trim(value.substr(0, semicolon)), "form-data") || !params) {
            return malformed("a part's Content-Disposition is not form-data with parameters");
        }
        has_disposition = true;
        if (const auto it = params->find("name"); it != params->end()) {
            part.name = it->second;
        }
        if (const auto it = params->find("filename"); it != params->end()) {
            part.filename = it->second;
        }
    }
    if (!has_disposition) {
        return malformed("a part has no Content-Disposition header");
    }
    return {};
}

// Where the first delimiter line starts: at the body's start or after a
// preamble; npos when the body has no delimiter.
std::size_t first_delimiter(std::string_view body, std::string_view delimiter) {
    if (body.starts_with(delimiter)) {
        return 0;
    }
    const auto at = body.find("\r\n" + std::string(delimiter));
    return at == std::string_view::npos ? at : at + 2; // skip the preamble's CRLF
}

// The part whose delimiter line ends at `pos` (just after the boundary);
// `pos` is left at the next delimiter line.
result<form_part> read_part(std::string_view body, std::string_view next_delimiter,
                            std::size_t& pos) {
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) {
        ++pos; // transport padding
    }
    if (!body.substr(pos).starts_with("\r\n")) {
        return malformed("a boundary line is not followed by CRLF");
    }
    pos += 2;
    std::size_t content_start = pos + 2;
    std::string_view header_block;
    if (!body.substr(pos).starts_with("\r\n")) {
        const auto headers_end = body.find("\r\n\r\n", pos);
        if (headers_end == std::string_view::npos) {
            return malformed("a part's headers are not terminated by an empty line");
        }
        header_block = body.substr(pos, headers_end - pos);
        content_start = headers_end + 4;
    }
    const auto content_end = body.find(next_delimiter, content_start);
    if (content_end == std::string_view::npos) {
        return malformed("the body ends inside a part (the closing boundary is missing)");
    }
    form_part part;
    if (auto read = read_part_headers(header_block, part); !read) {
        return read.error();
    }
    part.content = body.substr(content_start, content_end - content_start);
    pos = content_end + 2;
    return part;
}

} // namespace

result<std::vector<form_part>> parse_form_data(std::string_view content_type,
                                               std::string_view body) {
    const std::string boundary = form_boundary(content_type);
    if (boundary.empty()) {
        return malformed("the body must be multipart/form-data with a boundary parameter");
    }
    const std::string delimiter = "--" + boundary;
    const std::string next_delimiter = "\r\n" + delimiter;
    std::size_t pos = first_delimiter(body, delimiter);
    if (pos == std::string_view::npos) {
        return malformed("the body does not contain the boundary from Content-Type");
    }
    std::vector<form_part> parts;
    while (true) {
        pos += delimiter.size();
        if (body.substr(pos).starts_with("--")) {
            return parts;
        }
        auto part = read_part(body, next_delimiter, pos);
        if (!part) {
            return part.error();
        }
        parts.push_back(std::move(*part));
    }
}

const form_part* find_part(const std::vector<form_part>& parts, std::string_view name) {
    const auto it = std::find_if(parts.begin(), parts.end(),
                                 [&](const form_part& p) { return p.name == name; });
    return it == parts.end() ? nullptr : &*it;
}

} // namespace stemd::client
