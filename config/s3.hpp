#pragma once

// S3-compatible output: storage.output = "s3://bucket/prefix" and the [s3]
// table. The secret keys never come from stemd.toml: they are resolved at
// load time from the environment, a shared credentials file or a systemd
// credential (resolve_s3_credentials).

#include "common/error.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace stemd::config {

struct s3_output_settings {
    std::string endpoint; // scheme://host[:port], required with an s3:// output
    std::string region = "us-east-1";
    bool allow_http = false;                // an http:// endpoint is refused without it
    std::filesystem::path credentials_file; // AWS shared credentials format
    std::string profile = "default";        // its [section]
    std::string ca_file;
    // Refused when given: keys that would put a secret into stemd.toml.
    std::string refused_access_key;
    std::string refused_secret_key;
    std::string refused_session_token;

    // From storage.output; empty bucket = the output is a local directory.
    std::string bucket;
    std::string prefix; // no leading or trailing '/'; may be empty
    // Resolved by resolve_s3_credentials.
    std::string access_key;
    std::string secret_key;
    std::string session_token;
    std::string credentials_source; // where they were found, for doctor and logs

    bool enabled() const { return !bucket.empty(); }
};

// Splits "s3://bucket/prefix" into bucket and prefix; nullopt when `url` is
// not an s3:// URL. A refused bucket name gives the reason in `why`.
struct s3_location {
    std::string bucket;
    std::string prefix;
};
std::optional<s3_location> parse_s3_url(std::string_view url, std::string& why);

// The settings' credentials, in this order: $AWS_ACCESS_KEY_ID with
// $AWS_SECRET_ACCESS_KEY (and $AWS_SESSION_TOKEN), then credentials_file
// (section `profile`), then $CREDENTIALS_DIRECTORY/s3-credentials (same
// format). Fails with error::secret_unreadable naming what was tried.
result<void> resolve_s3_credentials(s3_output_settings& s3, std::string_view origin);

} // namespace stemd::config

namespace stemd::config {

struct table_spec;

// The [s3] table's keys and rules (read by settings.cpp).
table_spec s3_table(s3_output_settings& s3);

// Applies storage.output (as written; "" when absent): an s3:// URL sets
// s3.bucket and s3.prefix, anything else is a local directory that becomes
// output_dir. `output_dir_set` says whether storage.output_dir was given
// too, which is refused. Returns the whole complaint, or nullopt.
std::optional<std::string> apply_output(const std::string& output, bool output_dir_set,
                                        std::filesystem::path& output_dir, s3_output_settings& s3);

} // namespace stemd::config
