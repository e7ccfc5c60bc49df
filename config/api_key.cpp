#include "config/api_key.hpp"

#include "config/error.hpp"
#include "config/sources.hpp"

#include "common/text.hpp"

namespace stemd::config {

result<void> resolve_api_key(musicgpt_settings& m, std::string_view origin) {
    if (!m.api_key.empty()) {
        return {};
    }
    if (auto from_environment = environment_variable(api_key_variable)) {
        m.api_key = std::move(*from_environment);
        return {};
    }
    if (m.api_key_file.empty()) {
        return {};
    }
    const std::string where =
        std::string(origin) + ": musicgpt.api_key_file " + m.api_key_file.string();
    auto text = read_whole_file(m.api_key_file);
    if (!text) {
        return failure(error::secret_unreadable,
                       "cannot read " + where + ": " + text.error().message() +
                           "; check the path and that stemd's user may read it");
    }
    // A key file written by an editor or `echo` ends with a newline (or
    // CR LF), which is not part of the key.
    const std::string_view key = trim(*text, " \t\r\n\v\f");
    if (key.empty()) {
        return failure(error::secret_unreadable,
                       where + " is empty; put the MusicGPT API key in it");
    }
    m.api_key = std::string(key);
    return {};
}

} // namespace stemd::config
