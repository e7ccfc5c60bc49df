#pragma once

#include <string>
#include <string_view>

namespace stemd::config {

// `text` as it would be written in TOML (in quotes, escaped), so the reader
// of a message can find it in the file. The query and fragment of a URL are
// cut off ("?..."): they may carry tokens.
std::string toml_quoted(std::string_view text);

} // namespace stemd::config
