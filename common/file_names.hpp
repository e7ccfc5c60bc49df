#pragma once

#include <string>
#include <string_view>

namespace stemd {

// A name that is safe as one path component whatever a remote peer said: no
// '/', '\\', NUL or other control characters, not "." or "..", no leading
// dot, at most 64 bytes (cut on a UTF-8 boundary), "file" when nothing is
// left. Letters, digits, '-', '_' and '.' are kept; anything else becomes '_'.
std::string safe_name(std::string_view raw);

// Same rules for a folder named after a task_id.
std::string safe_dir(std::string_view raw);

} // namespace stemd
