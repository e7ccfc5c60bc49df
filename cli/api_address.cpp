#include "cli/api_address.hpp"

#include "cli/error.hpp"
#include "config/settings.hpp"

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

// Client commands need only api.listen. Unlike `serve` they do not resolve the
// MusicGPT key: a user may read the configuration without being allowed to
// read the key file.
result<config::endpoint> configured_api_listen(std::optional<fs::path> path) {
    if (!path)
        path = config::default_path();
    if (!path)
        return config::settings{}.api.listen;
    auto text = read_text_file(*path);
    if (!text)
        return text.error();
    auto parsed = config::parse(*text, path->string());
    if (!parsed)
        return stemd::error{parsed.error().code, parsed.error().message};
    return parsed->api.listen;
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
    auto listen = configured_api_listen(address.config);
    if (!listen)
        return listen.error();
    client::http_url url;
    url.https = false;
    url.host = loopback_for(listen->host);
    url.port = listen->port;
    url.target = "/";
    return url;
}

} // namespace stemd::cli
