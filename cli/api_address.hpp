#pragma once

// Where the client commands find the local API, and the token it wants.

#include "client/url.hpp"
#include "common/error.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace stemd::cli {

// --api URL, --config FILE and --token-file FILE as given.
struct api_address {
    std::optional<std::string> url;
    std::optional<std::filesystem::path> config;
    std::optional<std::filesystem::path> token_file;
};

// The variable that may hold the API token.
inline constexpr std::string_view api_token_variable = "STEMD_API_TOKEN";

// The base URL of the API: `url` when given (a usage error unless it is an
// http(s) URL without query), else http://<api.listen> of the configuration
// (`config`, else config::default_path(), else built-in defaults), with a
// wildcard listen address replaced by loopback.
result<client::http_url> api_base_url(const api_address& address);

// The API token: the contents of `token_file` when given, else
// $STEMD_API_TOKEN, else the contents of api.token_file of the
// configuration (found as for api_base_url), trimmed. error::no_token names
// the file that cannot be read and what to do.
result<std::string> api_token(const api_address& address);

} // namespace stemd::cli
