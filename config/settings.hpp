#pragma once

// The settings of every table of stemd.toml, and how to get them. What each
// part of the loading does lives in its own file: toml_table (typed keys),
// endpoint (host:port, URLs), load (which file, its permissions), api_key.

#include "common/error.hpp"
#include "config/endpoint.hpp"
#include "config/error.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stemd::config {

struct musicgpt_settings {
    std::string base_url = "https://api.musicgpt.com/api/public";
    std::string api_version = "v2";     // "v1" or "v2"
    std::string api_key;                // resolved from api_key, MUSICGPT_API_KEY or api_key_file
    std::filesystem::path api_key_file; // as written; load_file reads it when needed
    std::string ca_file;
};

struct webhook_settings {
    endpoint listen{"0.0.0.0", 8080};
    std::string public_url; // without trailing slash
    std::string secret;
    // HTTPS on the webhook listener when both are set (PEM files, reloaded
    // on SIGHUP).
    std::string tls_cert;
    std::string tls_key;
    // Standard Webhooks signing secret ("whsec_" + base64); when set, every
    // delivery must carry a valid webhook-signature.
    std::string signing_secret;
};

// What a peer of either listener may cost stemd.
struct limits_settings {
    int header_bytes = 8 * 1024;
    int body_bytes = 1024 * 1024;
    int request_timeout = 10;   // seconds for a whole request
    int idle_timeout = 30;      // seconds a kept-alive connection may idle
    int max_connections = 1024; // per listener; lowered at start to fit RLIMIT_NOFILE
    int max_connections_per_address = 64;
    int max_requests_per_connection = 1000; // then the connection is closed
};

// Catching up through MusicGPT's status endpoint (byId) when a webhook is
// late or a link has expired.
struct reconcile_settings {
    // A submitted job is overdue after max(overdue_factor * eta,
    // overdue_floor) seconds without a final webhook.
    int overdue_factor = 3;
    int overdue_floor = 300;
    // Status look-ups allowed per minute across all jobs (the lowest plan
    // allows 20).
    int status_per_minute = 20;
    // Seconds after its creation from which a job without files whose
    // task byId answers 404 fails instead of being asked about again.
    int unknown_task_after = 3600;
};

struct api_settings {
    endpoint listen{"127.0.0.1", 8081};
    // The file holding the bearer token every API request must carry; empty
    // means "api-token" in the folder of storage.database (api_token_file).
    std::filesystem::path token_file;
    // Host names (lowercase, no port) a request's Host may give besides
    // loopback ones.
    std::vector<std::string> allowed_hosts;
    // The largest body POST /v1/jobs may upload (multipart/form-data).
    std::int64_t upload_max_bytes = std::int64_t{1} << 30;
    // Folders whose regular files the JSON field audio_file may name
    // (absolute paths); none by default, so the field is refused.
    std::vector<std::filesystem::path> file_roots;
};

struct storage_settings {
    // The SQLite file. When storage.database is a PostgreSQL URI, this
    // keeps its default (only its folder is used: api-token, uploads) and
    // the URI is in database_uri.
    std::filesystem::path database = "var/stemd.db";
    // storage.database when it is a libpq URI ("postgresql://" or
    // "postgres://"), never with a password in it; "" for SQLite.
    std::string database_uri;
    std::filesystem::path output_dir = "var/stems";
};

struct download_settings {
    int concurrency = 4;
    int max_attempts = 8;
    // Fresh links a refused file may wait for (and unsettled status
    // look-ups while it waits) before it fails.
    int max_link_refreshes = 3;
    std::string ca_file;
    bool allow_http = false;
    bool allow_private_addresses = false;
    std::int64_t max_bytes = std::int64_t{2} << 30; // per file
    int idle_timeout = 30; // seconds a download may stall before it is retried
    // Seconds one download attempt may take in all.
    int max_seconds = 3600;
};

// How long finished jobs are kept (see jobs/retention.hpp).
struct retention_settings {
    // Days a completed or failed job stays in the database after its last
    // change; 0 keeps jobs for ever.
    int keep_days = 90;
    // Whether pruning a job also removes its stem files beneath
    // storage.output_dir; off by default, so stemd never deletes a user's
    // stems unless told.
    bool delete_files = false;
};

// Telling the user's own app when a job completes or fails: a Standard
// Webhooks POST to `url`, and/or running `command`. Neither set: no
// notifications are recorded.
struct notify_settings {
    std::string url;            // https, unless allow_http
    std::string signing_secret; // "whsec_" + base64; required with url
    bool allow_http = false;
    std::string ca_file; // a PEM file of extra trust anchors (a private CA)
    int timeout_seconds = 10;
    std::vector<std::string> command; // argv, no shell
    int command_timeout_seconds = 60;
};

struct settings {
    musicgpt_settings musicgpt;
    webhook_settings webhook;
    api_settings api;
    storage_settings storage;
    download_settings download;
    limits_settings limits;
    reconcile_settings reconcile;
    retention_settings retention;
    notify_settings notify;

    // Where these settings came from: a file path, or "built-in defaults".
    std::string source = "built-in defaults";
    // Things worth a warning at start that do not stop it (e.g. a public_url
    // that is not https).
    std::vector<std::string> warnings;
    // Loaded with key_file::may_be_unreadable: why musicgpt.api_key_file
    // was not read ("" when it was, or was not needed).
    std::string api_key_unread;
};

// Whether loading fails when musicgpt.api_key_file cannot be read. The
// daemon needs the key; `stemd doctor` may run where the file (e.g. a
// systemd credential of the unit) is out of reach, and asks the daemon.
enum class key_file { required, may_be_unreadable };

// api.token_file, or "api-token" in the folder of storage.database.
// (settings.cpp)
std::filesystem::path api_token_file(const settings& s);

// Whether `text` is a libpq connection URI (postgresql:// or postgres://)
// rather than a SQLite file. (settings.cpp)
bool is_postgres_uri(std::string_view text);

// The password file libpq should read for storage.database_uri: the
// systemd credential $CREDENTIALS_DIRECTORY/pgpass when that file exists and
// PGPASSFILE is not set (libpq reads PGPASSFILE itself); else "". (settings.cpp)
std::string postgres_passfile();

// Every key parse knows, as "table.key", in the order of the documentation:
// what a SIGHUP must either apply or refuse. (settings.cpp)
std::vector<std::string> key_names();

// Parses TOML text. `origin` names the text in messages (usually the path).
// Unknown tables/keys and bad values are refused with the key and reason.
// Relative storage paths stay relative (to the working directory), as the
// documented defaults are. (settings.cpp)
result<settings> parse(std::string_view toml_text, std::string_view origin);

// Reads and parses a file, then resolves the API key: the file's api_key,
// else $MUSICGPT_API_KEY, else the contents of api_key_file (trimmed).
// (load.cpp)
result<settings> load_file(const std::filesystem::path& path, key_file key = key_file::required);

// The file `stemd serve` reads when no --config is given: $STEMD_CONFIG, then
// ./stemd.toml, then /etc/stemd/stemd.toml; nullopt means built-in defaults.
// (load.cpp)
std::optional<std::filesystem::path> default_path();

// load_file(explicit or default_path()), or built-in defaults (with the API
// key still taken from the environment) when there is no file. (load.cpp)
result<settings> load(const std::optional<std::filesystem::path>& explicit_path,
                      key_file key = key_file::required);

} // namespace stemd::config
