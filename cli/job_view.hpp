#pragma once

// How a job of the local API (its JSON document) is shown to people: the
// detail view of `status`, `wait` and `submit` (the table of `list` is
// in job_table.hpp).

#include <boost/json/object.hpp>

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace stemd::cli {

// A field as display text: strings made printable, numbers as people write
// them, booleans as yes/no, null or missing as "".
std::string text_field(const boost::json::object& o, std::string_view key);

// A field holding a whole number of 0 or more, else nullopt.
std::optional<std::uint64_t> unsigned_field(const boost::json::object& o, std::string_view key);

// "done/total" of the job's files ("0/0" without files).
std::string files_done(const boost::json::object& job);

// completed and failed are the states a job does not leave by itself.
bool is_final(std::string_view status);

// The detail view: header line, one line per known detail, files table.
void print_job(std::ostream& out, const boost::json::object& job);

// --json prints the API's document unchanged, so scripts see every field;
// a final newline is added when missing.
void print_raw(std::ostream& out, const std::string& body);

// print_raw of `body` with --json, else print_job of `job` (parsed from it).
void show_job(std::ostream& out, const std::string& body, const boost::json::object& job,
              bool as_json);

} // namespace stemd::cli
