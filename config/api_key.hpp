#pragma once

#include "common/error.hpp"
#include "config/settings.hpp"

#include <string_view>

namespace stemd::config {

// The variable that may hold the MusicGPT API key.
inline constexpr std::string_view api_key_variable = "MUSICGPT_API_KEY";

// Fills m.api_key when the file did not: from $MUSICGPT_API_KEY, else from
// the contents of m.api_key_file (trimmed). Fails with
// error::secret_unreadable when api_key_file cannot be read or is empty;
// `origin` names the configuration in that message. The key itself never
// appears in a message.
result<void> resolve_api_key(musicgpt_settings& m, std::string_view origin);

} // namespace stemd::config
