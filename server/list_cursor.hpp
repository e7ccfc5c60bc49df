#pragma once

// The `before` / `next` cursor of GET /v1/jobs as text: opaque to clients
// (they pass back what they were given), two decimal numbers inside.

#include "storage/records.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace stemd::server {

std::string cursor_text(const storage::job_cursor& c);

// nullopt for anything cursor_text would not have written.
std::optional<storage::job_cursor> parse_cursor(std::string_view text);

} // namespace stemd::server
