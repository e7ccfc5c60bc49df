#pragma once

#include <string>
#include <string_view>

namespace stemd {

// A name that is safe as one path component whatever a remote peer said: no
// '/', '\\', NUL or other control characters, not "." or "..", no leading
// dot, at most 64 bytes (cut on a UTF-8 boundary), "file" when nothing is
// left. Letters, digits, '-', '_' and '.' are kept; anything else becomes '_'.
std::string safe_name(std::string_view raw);

// A folder named after a task_id, following the same rules, and one to one:
// two task ids never share a folder. An id that is already a safe name in
// lower case is kept as it is; any other becomes its safe_name, cut to 46
// bytes, followed by "_h" and the first 16 hex digits of the SHA-256 of the
// raw id (so ".T" and "T", "a/b" and "a_b", "A" and "a" differ, also on a
// case-insensitive file system). A kept id never ends like that.
std::string safe_dir(std::string_view raw);

} // namespace stemd
