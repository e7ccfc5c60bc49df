#pragma once

// multipart/form-data, server side (RFC 7578): the body of an upload, for
// the daemon's local API and the simulator alike.

#include "common/error.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stemd::client {

struct form_part {
    std::string name;
    std::string filename;     // of a file part; "" for a field
    std::string_view content; // points into the request body
};

// `; name="value"; other=token` after a media type or disposition type;
// names are lowercased, quoted values unescaped. nullopt when the text is
// not such a list (a quoted string not closed, no ';' between parameters).
std::optional<std::map<std::string, std::string>> parse_parameters(std::string_view rest);

// The boundary of a multipart/form-data Content-Type, or "" when the type is
// something else or has no usable boundary (1 to 70 characters).
std::string form_boundary(std::string_view content_type);

// The parts of `body`, each with its name and filename (a part's
// Content-Type is not kept). A body that does not follow RFC 7578 fails
// with client::error::bad_form and says what is wrong.
result<std::vector<form_part>> parse_form_data(std::string_view content_type,
                                               std::string_view body);

// The first part named `name`, or nullptr.
const form_part* find_part(const std::vector<form_part>& parts, std::string_view name);

} // namespace stemd::client
