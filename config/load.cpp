// load_file, default_path and load (declared in config/settings.hpp): which
// file is read, and what is checked about the file itself.

#include "config/settings.hpp"

#include "common/text.hpp"
#include "config/api_key.hpp"
#include "config/sources.hpp"

namespace stemd::config {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view built_in_source = "built-in defaults";
constexpr std::string_view config_variable = "STEMD_CONFIG";

// A key in a file others can read is a key others can use.
void warn_if_exposed(const fs::path& path, settings& s) {
    std::vector<std::string> secrets;
    if (!s.musicgpt.api_key.empty()) {
        secrets.emplace_back("musicgpt.api_key");
    }
    if (!s.webhook.secret.empty()) {
        secrets.emplace_back("webhook.secret");
    }
    if (secrets.empty()) {
        return;
    }
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec) {
        return;
    }
    constexpr auto others = fs::perms::group_all | fs::perms::others_all;
    if ((status.permissions() & others) == fs::perms::none) {
        return;
    }
    s.warnings.push_back(path.string() + " is readable by other users and holds " +
                         join(secrets, " and ") + "; chmod 600 it");
}

} // namespace

result<settings> load_file(const fs::path& path) {
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
    if (auto resolved = resolve_api_key(s.musicgpt, origin); !resolved) {
        return resolved.error();
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

result<settings> load(const std::optional<fs::path>& explicit_path) {
    const std::optional<fs::path> path = explicit_path ? explicit_path : default_path();
    if (path) {
        return load_file(*path);
    }
    settings s;
    s.source = std::string(built_in_source);
    if (auto resolved = resolve_api_key(s.musicgpt, s.source); !resolved) {
        return resolved.error();
    }
    return s;
}

} // namespace stemd::config
