// load_file, default_path and load (declared in config/settings.hpp): which
// file is read, and what is checked about the file itself.

#include "config/settings.hpp"

#include "common/posix_file.hpp"
#include "common/text.hpp"
#include "config/api_key.hpp"
#include "config/error.hpp"
#include "config/sources.hpp"

namespace stemd::config {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view built_in_source = "built-in defaults";
constexpr std::string_view config_variable = "STEMD_CONFIG";

// A key in a file others can read is a key others can use. Checked before
// the key is resolved, so that a key from the environment or the key file
// does not count as one held by the config file.
void warn_if_exposed(const fs::path& path, settings& s) {
    std::vector<std::string> secrets;
    if (!s.musicgpt.api_key.empty()) {
        secrets.emplace_back("musicgpt.api_key");
    }
    if (!s.webhook.secret.empty()) {
        secrets.emplace_back("webhook.secret");
    }
    if (!s.webhook.signing_secret.empty()) {
        secrets.emplace_back("webhook.signing_secret");
    }
    if (secrets.empty() || !open_to_others(path)) {
        return;
    }
    s.warnings.push_back(path.string() + " is readable by other users and holds " +
                         join(secrets, " and ") + "; chmod 600 it");
}

// The key file is a secret of its own, whichever source the key came from.
void warn_if_key_file_exposed(settings& s) {
    const fs::path& file = s.musicgpt.api_key_file;
    if (file.empty() || !open_to_others(file)) {
        return;
    }
    s.warnings.push_back("musicgpt.api_key_file " + file.string() +
                         " is open to other users (group or others have access); chmod 600 "
                         "it and keep it owned by the user stemd runs as");
}

// A key file that cannot be read fails the load unless `key` allows it.
result<void> resolve_key(settings& s, std::string_view origin, key_file key) {
    auto resolved = resolve_api_key(s.musicgpt, origin);
    if (resolved || key == key_file::required ||
        resolved.error().code != make_error_code(error::secret_unreadable)) {
        return resolved;
    }
    s.api_key_unread = resolved.error().message;
    return {};
}

} // namespace

result<settings> load_file(const fs::path& path, key_file key) {
    const std::string origin = path.string();
    auto text = read_whole_file(path);
    if (!text) {
        return failure(error::file_unreadable, "cannot read config file " + origin + ": " +
                                                   text.error().message() +
                                                   "; check the path and its permissions");
    }
    auto parsed = parse(*text, origin);
    if (!parsed) {
        return parsed.error();
    }
    settings s = std::move(*parsed);
    warn_if_exposed(path, s);
    if (auto resolved = resolve_key(s, origin, key); !resolved) {
        return resolved.error();
    }
    warn_if_key_file_exposed(s);
    if (auto keys = resolve_s3_credentials(s.s3, origin); !keys && key == key_file::required) {
        return keys.error();
    }
    return s;
}

std::optional<fs::path> default_path() {
    if (auto from_environment = environment_variable(config_variable)) {
        return fs::path(*from_environment);
    }
    for (const fs::path& candidate : {fs::path("stemd.toml"), fs::path("/etc/stemd/stemd.toml")}) {
        std::error_code ec;
        if (fs::exists(candidate, ec)) {
            return candidate;
        }
    }
    return std::nullopt;
}

result<settings> load(const std::optional<fs::path>& explicit_path, key_file key) {
    const std::optional<fs::path> path = explicit_path ? explicit_path : default_path();
    if (path) {
        return load_file(*path, key);
    }
    settings s;
    s.source = std::string(built_in_source);
    if (auto resolved = resolve_key(s, s.source, key); !resolved) {
        return resolved.error();
    }
    return s;
}

} // namespace stemd::config
