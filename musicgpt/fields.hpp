#pragma once

// Reading MusicGPT's JSON fields the way every parser here needs them.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace boost::json {
class object;
class value;
} // namespace boost::json

namespace stemd::musicgpt {

// "object", "array", "string", "number", "boolean" or "null", for messages.
std::string kind_name(const boost::json::value& v);

// A number, or a string holding one (MusicGPT sends "5.55"), spaces around
// it allowed; nullopt for anything else or when `v` is null.
std::optional<double> number_in(const boost::json::value* v);

// A string member as is; any other non-null member as compact JSON (a
// FastAPI style "detail" is a list of objects); "" when absent or null.
std::string text_of(const boost::json::object& o, std::string_view key);

// Text from a server made fit for one log line: control characters become
// spaces, runs of spaces collapse, and it ends after `limit` bytes with
// "..." without splitting a UTF-8 sequence.
std::string printable(std::string_view text, std::size_t limit);

} // namespace stemd::musicgpt
