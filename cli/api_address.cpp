#include "cli/api_address.hpp"

#include "cli/error.hpp"
#include "common/text.hpp"
#include "config/settings.hpp"
#include "config/sources.hpp"

#include <cerrno>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

namespace stemd::cli {

namespace {

namespace fs = std::filesystem;

result<std::string> read_text_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return failure(error::config,
                       "cannot read the configuration " + path.string() + ": " +
                           std::error_code(errno, std::generic_category()).message() +
                           "; give the API's address with --api URL, or another file with "
                           "--config FILE");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Client commands need only the [api] and [storage] tables. Unlike `serve`
// they do not resolve the MusicGPT key: a user may read the configuration
// without being allowed to read the key file.
result<config::settings> client_settings(std::optional<fs::path> path) {
    if (!path)
        path = config::default_path();
    if (!path)
        return config::settings{};
    auto text = read_text_file(*path);
    if (!text)
        return text.error();
    auto parsed = config::parse(*text, path->string());
    if (!parsed)
        return stemd::error{parsed.error().code, parsed.error().message};
    return std::move(*parsed);
}

// The token in `file`; `named_by` says where the path came from.
result<std::string> read_token_file(const fs::path& file, const std::string& named_by) {
    const std::string fix = "; run as a user who may read it (e.g. one in the group of the "
                            "user running `stemd serve`), or give the token with --token-file "
                            "FILE or $STEMD_API_TOKEN";
    std::ifstream in(file, std::ios::binary);
    if (!in)
        return failure(error::no_token,
                       "cannot read the API token file " + file.string() + " (" + named_by +
                           "): " + std::error_code(errno, std::generic_category()).message() + fix);
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const std::string token(trim(text, " \t\r\n"));
    if (token.empty())
        return failure(error::no_token, "the API token file " + file.string() + " (" + named_by +
                                            ") is empty" + fix);
    return token;
}

// A wildcard listen address accepts connections on loopback too.
std::string loopback_for(const std::string& host) {
    if (host == "0.0.0.0")
        return "127.0.0.1";
    if (host == "::")
        return "::1";
    return host;
}

} // namespace

result<client::http_url> api_base_url(const api_address& address) {
    if (address.url) {
        auto url = client::parse_http_url(*address.url);
        if (!url || url->target.find('?') != std::string::npos)
            return usage_error("--api takes the base URL of the stemd API, such as "
                               "http://127.0.0.1:8081");
        return std::move(*url);
    }
    auto settings = client_settings(address.config);
    if (!settings)
        return settings.error();
    client::http_url url;
    url.https = false;
    url.host = loopback_for(settings->api.listen.host);
    url.port = settings->api.listen.port;
    url.target = "/";
    return url;
}

result<std::string> api_token(const api_address& address) {
    if (address.token_file)
        return read_token_file(*address.token_file, "--token-file");
    if (auto from_environment = config::environment_variable(api_token_variable)) {
        const std::string token(trim(*from_environment, " \t\r\n"));
        if (!token.empty())
            return token;
    }
    auto settings = client_settings(address.config);
    if (!settings)
        return settings.error();
    return read_token_file(config::api_token_file(*settings),
                           "api.token_file of " + settings->source);
}

} // namespace stemd::cli
