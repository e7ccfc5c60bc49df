#include "config/s3.hpp"

#include "common/text.hpp"
#include "config/error.hpp"
#include "config/quoted.hpp"
#include "config/sources.hpp"
#include "config/toml_table.hpp"

#include <algorithm>
#include <cctype>

namespace stemd::config {

namespace {

constexpr std::string_view access_key_variable = "AWS_ACCESS_KEY_ID";
constexpr std::string_view secret_key_variable = "AWS_SECRET_ACCESS_KEY";
constexpr std::string_view session_token_variable = "AWS_SESSION_TOKEN";
constexpr std::string_view systemd_credential = "s3-credentials";

// S3 bucket names: 3-63 of lowercase letters, digits, '.', '-'.
bool valid_bucket(std::string_view b) {
    return b.size() >= 3 && b.size() <= 63 &&
           b.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") == std::string::npos &&
           b.front() != '.' && b.front() != '-' && b.back() != '.' && b.back() != '-';
}

std::optional<std::string> check_endpoint(std::string& value) {
    while (!value.empty() && value.back() == '/')
        value.pop_back();
    const bool https = value.starts_with("https://");
    const bool http = value.starts_with("http://");
    if (https || http) {
        const std::size_t scheme = https ? 8 : 7;
        const std::string_view rest = std::string_view(value).substr(scheme);
        if (const auto at = rest.find('@'); at != std::string_view::npos) {
            // Cut before the refusal echoes the value: it may be a secret.
            value = value.substr(0, scheme) + "..." + std::string(rest.substr(at));
            return std::string("has a user or password in it: S3 keys come from the "
                               "environment, s3.credentials_file or the credential "
                               "s3-credentials, never from the endpoint");
        }
        if (!rest.empty() && rest.find_first_of("/?# ") == std::string::npos)
            return std::nullopt;
    }
    return "is not an S3 endpoint: give scheme, host and port only, e.g. "
           "\"https://s3.eu-west-1.amazonaws.com\" or \"http://127.0.0.1:9000\"";
}

std::optional<std::string> check_region(std::string& value) {
    if (!value.empty() &&
        value.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos)
        return std::nullopt;
    return "is not a region name: give it as the provider writes it, e.g. \"us-east-1\"";
}

std::optional<std::string> check_profile(std::string& value) {
    if (!value.empty() && value.find_first_of("[]\n") == std::string::npos)
        return std::nullopt;
    return "is not a profile name: give the name of a [section] of the credentials file";
}

// Any value at all: a secret does not belong in a file that is read,
// copied and shown far more often than a credentials file.
std::optional<std::string> refuse_secret(std::string&) {
    return "puts a secret into the config file, which stemd refuses: give the keys in "
           "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, in s3.credentials_file, or as the systemd "
           "credential s3-credentials, and remove this key";
}

std::optional<std::string> s3_rules(const s3_output_settings& s) {
    if (s.endpoint.starts_with("http://") && !s.allow_http)
        return "s3.endpoint = " + toml_quoted(s.endpoint) +
               " is plain http: requests are signed but stems travel unencrypted; give an "
               "https endpoint, or set s3.allow_http = true for a server on this machine";
    return std::nullopt;
}

struct found_keys {
    std::string access_key;
    std::string secret_key;
    std::string session_token;
};

// One [section] of an AWS shared credentials file ("key = value" lines,
// '#' or ';' comments). nullopt when the section is absent.
std::optional<found_keys> read_profile(std::string_view text, std::string_view profile) {
    std::optional<found_keys> out;
    bool inside = false;
    for (std::size_t at = 0; at < text.size();) {
        const auto end = std::min(text.find('\n', at), text.size());
        auto line = trim(text.substr(at, end - at), " \t\r");
        at = end + 1;
        if (line.empty() || line.front() == '#' || line.front() == ';')
            continue;
        if (line.front() == '[' && line.back() == ']') {
            auto name = trim(line.substr(1, line.size() - 2));
            if (name.starts_with("profile "))
                name = trim(name.substr(8));
            inside = name == profile;
            if (inside && !out)
                out.emplace();
            continue;
        }
        const auto eq = line.find('=');
        if (!inside || eq == std::string_view::npos)
            continue;
        const auto key = lowercase(std::string(trim(line.substr(0, eq))));
        const std::string value(trim(line.substr(eq + 1)));
        if (key == "aws_access_key_id")
            out->access_key = value;
        else if (key == "aws_secret_access_key")
            out->secret_key = value;
        else if (key == "aws_session_token")
            out->session_token = value;
    }
    return out;
}

// nullopt: the file says nothing usable and the next source is tried.
result<std::optional<found_keys>> keys_from_file(const std::filesystem::path& file,
                                                 std::string_view profile, bool must_exist) {
    auto text = read_whole_file(file);
    if (!text) {
        if (!must_exist && text.error() == boost::system::errc::no_such_file_or_directory)
            return std::optional<found_keys>();
        return failure(error::secret_unreadable, "cannot read the S3 credentials file " +
                                                     file.string() + ": " + text.error().message() +
                                                     "; check the path and its permissions");
    }
    auto keys = read_profile(*text, profile);
    if (!keys || keys->access_key.empty() || keys->secret_key.empty())
        return failure(error::secret_unreadable,
                       "the S3 credentials file " + file.string() + " has no [" +
                           std::string(profile) +
                           "] section with aws_access_key_id and aws_secret_access_key; add "
                           "them, or set s3.profile to the section that has them");
    return keys;
}

void take(s3_output_settings& s3, found_keys k, std::string source) {
    s3.access_key = std::move(k.access_key);
    s3.secret_key = std::move(k.secret_key);
    s3.session_token = std::move(k.session_token);
    s3.credentials_source = std::move(source);
}

} // namespace

// Each folder of the prefix: no "." or ".." (a browser following a
// presigned URL drops them), nothing that needs escaping or is invisible.
bool plain_prefix(std::string_view prefix) {
    while (!prefix.empty()) {
        const std::string_view folder = prefix.substr(0, prefix.find('/'));
        if (folder == "." || folder == "..")
            return false;
        for (const char c : folder)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
                return false;
        prefix.remove_prefix(std::min(prefix.size(), folder.size() + 1));
    }
    return true;
}

std::optional<s3_location> parse_s3_url(std::string_view url, std::string& why) {
    if (!url.starts_with("s3://"))
        return std::nullopt;
    std::string_view rest = url.substr(5);
    const auto slash = rest.find('/');
    s3_location out{std::string(rest.substr(0, slash)), ""};
    if (slash != std::string_view::npos) {
        std::string_view prefix = rest.substr(slash + 1);
        while (!prefix.empty() && prefix.back() == '/')
            prefix.remove_suffix(1);
        out.prefix = std::string(prefix);
    }
    if (!valid_bucket(out.bucket))
        why = "names no valid bucket: write it as s3://bucket/prefix with a bucket of 3-63 "
              "lowercase letters, digits, '.' or '-'";
    else if (out.prefix.find("//") != std::string::npos || out.prefix.starts_with("/"))
        why = "has an empty folder in its prefix: write it as s3://bucket/folder/folder";
    else if (!plain_prefix(out.prefix))
        why = "has a prefix that would not survive a URL: use folders of letters, digits and "
              "- _ . (not \".\" or \"..\"), separated by '/'";
    return out;
}

table_spec s3_table(s3_output_settings& s3) {
    return {"s3",
            {{"endpoint", text_value(s3.endpoint, check_endpoint)},
             {"region", text_value(s3.region, check_region)},
             {"allow_http", bool_value(s3.allow_http)},
             {"credentials_file", path_value(s3.credentials_file)},
             {"profile", text_value(s3.profile, check_profile)},
             {"ca_file", text_value(s3.ca_file)},
             {"access_key_id", secret_value(s3.refused_access_key, refuse_secret)},
             {"secret_access_key", secret_value(s3.refused_secret_key, refuse_secret)},
             {"session_token", secret_value(s3.refused_session_token, refuse_secret)}},
            [&s3] {
                return s3_rules(s3);
            }};
}

std::optional<std::string> apply_output(const std::string& output, bool output_dir_set,
                                        std::filesystem::path& output_dir, s3_output_settings& s3) {
    if (output.empty())
        return std::nullopt;
    if (output_dir_set)
        return "storage.output and storage.output_dir are both set: keep only storage.output "
               "(a directory or s3://bucket/prefix)";
    std::string why;
    auto location = parse_s3_url(output, why);
    if (!location) {
        output_dir = output;
        return std::nullopt;
    }
    if (!why.empty())
        return "storage.output = " + toml_quoted(output) + " " + why;
    if (s3.endpoint.empty())
        return "storage.output = " + toml_quoted(output) +
               " needs s3.endpoint, the server's scheme, host and port (e.g. "
               "\"https://s3.eu-west-1.amazonaws.com\")";
    s3.bucket = std::move(location->bucket);
    s3.prefix = std::move(location->prefix);
    return std::nullopt;
}

result<void> resolve_s3_credentials(s3_output_settings& s3, std::string_view origin) {
    if (!s3.enabled())
        return {};
    auto id = environment_variable(access_key_variable);
    auto secret = environment_variable(secret_key_variable);
    if (id && secret) {
        take(s3, {*id, *secret, environment_variable(session_token_variable).value_or("")},
             "the environment");
        return {};
    }
    if (!s3.credentials_file.empty()) {
        auto keys = keys_from_file(s3.credentials_file, s3.profile, true);
        if (!keys)
            return keys.error();
        take(s3, std::move(**keys), s3.credentials_file.string());
        return {};
    }
    if (auto dir = environment_variable("CREDENTIALS_DIRECTORY")) {
        const auto file = std::filesystem::path(*dir) / std::string(systemd_credential);
        auto keys = keys_from_file(file, s3.profile, false);
        if (!keys)
            return keys.error();
        if (*keys) {
            take(s3, std::move(**keys), "the systemd credential s3-credentials");
            return {};
        }
    }
    return failure(error::secret_unreadable,
                   std::string(origin) +
                       ": storage.output is S3 but no credentials were found: set "
                       "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or s3.credentials_file, "
                       "or give the unit the credential s3-credentials (LoadCredential=)");
}

} // namespace stemd::config
