#pragma once

#include <string>
#include <string_view>

namespace stemd::server {

// A name that is safe as one path component whatever the payload said: no
// '/', '\\', NUL or other control characters, not "." or "..", no leading
// dot, at most 64 bytes (cut on a UTF-8 boundary), "file" when nothing is
// left. Letters, digits, '-', '_' and '.' are kept; anything else becomes '_'.
std::string safe_name(std::string_view raw);

// Same rules for a folder named after a task_id.
std::string safe_dir(std::string_view raw);

// The audio extension of a URL's path ("mp3", "wav", "flac", "ogg", "m4a",
// "aac", "aiff", "webm", "opus"), lowercase, or "" when the path has none of
// them. The query string is ignored.
std::string extension_from_url(std::string_view url);

// The extension for a Content-Type ("audio/mpeg" -> "mp3", "audio/wav" ->
// "wav", ...), or "" when unknown. Parameters (";charset=") are ignored.
std::string extension_from_content_type(std::string_view content_type);

} // namespace stemd::server
