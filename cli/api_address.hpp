#pragma once

// Where the client commands find the local API.

#include "client/url.hpp"
#include "common/error.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace stemd::cli {

// --api URL and --config FILE as given.
struct api_address {
    std::optional<std::string> url;
    std::optional<std::filesystem::path> config;
};

// The base URL of the API: `url` when given (a usage error unless it is an
// http(s) URL without query), else http://<api.listen> of the configuration
// (`config`, else config::default_path(), else built-in defaults), with a
// wildcard listen address replaced by loopback.
result<client::http_url> api_base_url(const api_address& address);

} // namespace stemd::cli
