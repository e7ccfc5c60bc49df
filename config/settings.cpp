#include "config/settings.hpp"

#include "common/signing.hpp"
#include "common/text.hpp"
#include "config/quoted.hpp"
#include "config/sources.hpp"
#include "config/toml_table.hpp"

#include <algorithm>
#include <cctype>

namespace stemd::config {

namespace {

constexpr std::size_t min_secret_length = 16;

// ---------------------------------------------------------------------------
// Value checks. Each returns, when it refuses the value, the rest of the
// sentence that follows "table.key = value".

std::optional<std::string> check_api_version(std::string& value) {
    if (value == "v1" || value == "v2") {
        return std::nullopt;
    }
    return "is not a known API version: use \"v1\" or \"v2\"";
}

std::optional<std::string> check_webhook_secret(std::string& value) {
    if (value.empty() || value.size() >= min_secret_length) {
        return std::nullopt;
    }
    return "is shorter than " + std::to_string(min_secret_length) +
           " characters: it guards a public endpoint, so use a long random value "
           "(e.g. from `openssl rand -hex 32`), or leave it empty";
}

// The format Standard Webhooks senders (Svix, Hookdeck, ...) hand out; the
// base64 part is decoded where the signature is checked.
std::optional<std::string> check_signing_secret(std::string& value) {
    if (value.empty() || (value.starts_with("whsec_") && value.size() > 6 + 16)) {
        return std::nullopt;
    }
    return "is not a Standard Webhooks secret: expected \"whsec_\" followed by the base64 "
           "key your webhook relay shows, or leave it empty";
}

std::optional<std::string> check_absolute(std::string& value) {
    if (!value.empty() && value.front() == '/') {
        while (value.size() > 1 && value.back() == '/') {
            value.pop_back();
        }
        return std::nullopt;
    }
    return "is not an absolute path: give folders as \"/srv/music\"";
}

std::optional<std::string> check_not_empty(std::string& value) {
    if (!value.empty()) {
        return std::nullopt;
    }
    return "is empty: give a path (relative paths are taken from the working directory)";
}

// A name as a Host header gives it, without the port: letters, digits, '.',
// '-', '_', or an IPv6 address in brackets. Lowercased, as Host is compared.
std::optional<std::string> check_host_name(std::string& value) {
    value = lowercase(value);
    const bool bracketed = value.size() > 2 && value.front() == '[' && value.back() == ']';
    const std::string_view allowed =
        bracketed ? "0123456789abcdef:.[]" : "abcdefghijklmnopqrstuvwxyz0123456789.-_";
    if (!value.empty() && value.find_first_not_of(allowed) == std::string::npos) {
        return std::nullopt;
    }
    return "is not a host name: give a name or address as clients write it in the URL, without "
           "scheme, port or path (e.g. \"stemd.lan\" or \"192.168.1.20\")";
}

std::optional<std::string> check_output(std::string& value) {
    if (value.empty())
        return "is empty: give a directory or s3://bucket/prefix";
    return std::nullopt;
}

// ---------------------------------------------------------------------------
// Rules across the keys of one table.

// %XX sequences decoded; anything malformed is kept as it is.
std::string percent_decoded(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto hex = [](char c) {
            return std::isxdigit(static_cast<unsigned char>(c)) != 0;
        };
        if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) && hex(text[i + 2])) {
            out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

// A password in the URI would sit in a config file anyone who may read the
// config can read; libpq takes it from a password file instead.
bool uri_has_password(std::string_view uri) {
    const std::string_view rest = uri.substr(uri.find("://") + 3);
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
    const auto at = authority.rfind('@');
    if (at != std::string_view::npos &&
        authority.substr(0, at).find(':') != std::string_view::npos) {
        return true;
    }
    const auto query_start = rest.find('?');
    if (query_start == std::string_view::npos) {
        return false;
    }
    std::string_view query = rest.substr(query_start + 1);
    while (!query.empty()) {
        const std::string_view param = query.substr(0, query.find('&'));
        // libpq percent-decodes parameter names too (pass%77ord), and the
        // client key's passphrase is as secret as the password.
        const std::string name = percent_decoded(param.substr(0, param.find('=')));
        if (iequals(name, "password") || iequals(name, "sslpassword")) {
            return true;
        }
        query.remove_prefix(std::min(query.size(), param.size() + 1));
    }
    return false;
}

// "host=db dbname=stemd": libpq's other form, a word of it at the start or
// after a space. No file path looks like that.
bool looks_like_conninfo(std::string_view text) {
    for (const std::string_view key : {"host=", "hostaddr=", "dbname=", "user=", "port=",
                                       "service="}) {
        for (auto at = text.find(key); at != std::string_view::npos; at = text.find(key, at + 1))
            if (at == 0 || text[at - 1] == ' ')
                return true;
    }
    return false;
}

// storage.database as a PostgreSQL URI moves to database_uri (never shown
// in a refusal: it may hold the password being refused).
std::optional<std::string> database_rules(storage_settings& st) {
    const std::string text = st.database.string();
    if (looks_like_conninfo(text)) {
        return "storage.database looks like libpq's key=value form, which stemd does not read "
               "(it would become a SQLite file of that name): write it as a URI, "
               "\"postgresql://user@host:5432/dbname\"";
    }
    if (!is_postgres_uri(text)) {
        return std::nullopt;
    }
    if (uri_has_password(text)) {
        return "storage.database has a password in its PostgreSQL URI: remove it from the URI "
               "(and from this file) and give it in a password file instead, named by "
               "PGPASSFILE or passed as the systemd credential `pgpass` "
               "(LoadCredential=pgpass:/etc/stemd/pgpass), one line host:port:dbname:user:password";
    }
    st.database_uri = text;
    st.database = storage_settings{}.database;
    return std::nullopt;
}

std::optional<std::string> one_key_source(const musicgpt_settings& m) {
    if (m.api_key.empty() || m.api_key_file.empty()) {
        return std::nullopt;
    }
    return "musicgpt.api_key and musicgpt.api_key_file are both set: keep only one "
           "(api_key_file keeps the key out of this file)";
}

std::optional<std::string> tls_pair(const webhook_settings& w) {
    if (w.tls_cert.empty() == w.tls_key.empty()) {
        return std::nullopt;
    }
    return "webhook.tls_cert and webhook.tls_key go together: set both for HTTPS, or neither";
}

// Unlike the base URLs, the receiver's URL is used exactly as written: a
// query (e.g. a routing key) and a trailing slash are the receiver's own.
std::optional<std::string> check_notify_url(std::string& value) {
    const std::string_view text = value;
    const auto scheme_end = text.find("://");
    const std::string_view scheme = text.substr(0, scheme_end);
    if (value.empty()) {
        return std::nullopt;
    }
    if (scheme_end == std::string_view::npos || (scheme != "https" && scheme != "http")) {
        return "is not an http(s) URL: write it like https://host/path";
    }
    const std::string_view rest = text.substr(scheme_end + 3);
    if (rest.substr(0, rest.find_first_of("/?#")).empty()) {
        return "has no host: write it like https://host/path";
    }
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte == 0x7f) {
            return "contains a space or control character: percent-encode it or remove it";
        }
    }
    return std::nullopt;
}

std::optional<std::string> check_notify_secret(std::string& value) {
    if (value.empty() || webhook_secret_key(value)) {
        return std::nullopt;
    }
    return "is not a Standard Webhooks secret: expected \"whsec_\" followed by base64 (e.g. "
           "\"whsec_\" and the output of `openssl rand -base64 32`)";
}

std::optional<std::string> check_command(std::string& value) {
    if (!value.empty()) {
        return std::nullopt;
    }
    return "holds an empty string: give the program and its arguments, e.g. "
           "[\"/usr/local/bin/on-stems\", \"--quiet\"]";
}

std::optional<std::string> notify_rules(const notify_settings& n) {
    if (n.url.empty()) {
        return std::nullopt;
    }
    if (!n.url.starts_with("https://") && !n.allow_http) {
        return "notify.url = " + toml_quoted(n.url) +
               " is not https: events carry file paths and are signed, not encrypted; give an "
               "https URL, or set notify.allow_http = true for a receiver on this machine";
    }
    if (n.signing_secret.empty()) {
        return "notify.url = " + toml_quoted(n.url) +
               " needs notify.signing_secret (\"whsec_\" + base64) so the receiver can check "
               "each event came from stemd";
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------
// Every table and key stemd knows, in the order the documentation lists
// them, bound to the members of `s` they set.

std::vector<table_spec> tables_of(settings& s) {
    auto& m = s.musicgpt;
    auto& w = s.webhook;
    auto& d = s.download;
    auto& l = s.limits;
    auto& r = s.reconcile;
    return {
        {"musicgpt",
         {{"base_url", text_value(m.base_url, check_http_url)},
          {"api_version", text_value(m.api_version, check_api_version)},
          {"api_key", secret_value(m.api_key)},
          {"api_key_file", path_value(m.api_key_file)},
          {"ca_file", text_value(m.ca_file)}},
         [&m] {
             return one_key_source(m);
         }},
        {"webhook",
         {{"listen", endpoint_value(w.listen)},
          {"public_url", text_value(w.public_url, check_optional_http_url)},
          {"secret", secret_value(w.secret, check_webhook_secret)},
          {"tls_cert", text_value(w.tls_cert)},
          {"tls_key", text_value(w.tls_key)},
          {"signing_secret", secret_value(w.signing_secret, check_signing_secret)}},
         [&w] {
             return tls_pair(w);
         }},
        {"api",
         {{"listen", endpoint_value(s.api.listen)},
          {"token_file", path_value(s.api.token_file, check_not_empty)},
          {"allowed_hosts", text_list_value(s.api.allowed_hosts, check_host_name)},
          {"upload_max_bytes", int_value(s.api.upload_max_bytes, 1, std::int64_t{1} << 40)},
          {"file_roots", path_list_value(s.api.file_roots, check_absolute)}}},
        {"storage",
         {{"database", path_value(s.storage.database, check_not_empty)},
          {"output", text_value(s.storage.output, check_output)},
          {"output_dir", path_value(s.storage.output_dir, check_not_empty)}},
         [&st = s.storage] {
             return database_rules(st);
         }},
        {"download",
         {{"concurrency", int_value(d.concurrency, 1, 64)},
          {"max_attempts", int_value(d.max_attempts, 1, 100)},
          {"max_link_refreshes", int_value(d.max_link_refreshes, 1, 100)},
          {"ca_file", text_value(d.ca_file)},
          {"allow_http", bool_value(d.allow_http)},
          {"allow_private_addresses", bool_value(d.allow_private_addresses)},
          {"max_bytes", int_value(d.max_bytes, 1, std::int64_t{1} << 40)},
          {"idle_timeout", int_value(d.idle_timeout, 1, 3600)},
          {"max_seconds", int_value(d.max_seconds, 1, 7 * 86400)}}},
        {"limits",
         {{"header_bytes", int_value(l.header_bytes, 1024, 1024 * 1024)},
          {"body_bytes", int_value(l.body_bytes, 1024, 64 * 1024 * 1024)},
          {"request_timeout", int_value(l.request_timeout, 1, 3600)},
          {"idle_timeout", int_value(l.idle_timeout, 1, 3600)},
          {"max_connections", int_value(l.max_connections, 1, 100000)},
          {"max_connections_per_address", int_value(l.max_connections_per_address, 1, 100000)},
          {"max_requests_per_connection", int_value(l.max_requests_per_connection, 1, 1000000)}}},
        {"reconcile",
         {{"overdue_factor", int_value(r.overdue_factor, 1, 100)},
          {"overdue_floor", int_value(r.overdue_floor, 1, 86400)},
          {"status_per_minute", int_value(r.status_per_minute, 1, 10000)},
          {"unknown_task_after", int_value(r.unknown_task_after, 1, 30 * 86400)}}},
        {"retention",
         {{"keep_days", int_value(s.retention.keep_days, 0, 36500)},
          {"delete_files", bool_value(s.retention.delete_files)}}},
        {"notify",
         {{"url", text_value(s.notify.url, check_notify_url)},
          {"signing_secret", secret_value(s.notify.signing_secret, check_notify_secret)},
          {"allow_http", bool_value(s.notify.allow_http)},
          {"ca_file", text_value(s.notify.ca_file)},
          {"timeout_seconds", int_value(s.notify.timeout_seconds, 1, 600)},
          {"command", text_list_value(s.notify.command, check_command)},
          {"command_timeout_seconds", int_value(s.notify.command_timeout_seconds, 1, 86400)}},
         [&n = s.notify] {
             return notify_rules(n);
         }},
        s3_table(s.s3),
    };
}

void warn_about_public_url(const webhook_settings& webhook, std::string_view origin,
                           std::vector<std::string>& warnings) {
    if (webhook.public_url.empty() || webhook.public_url.starts_with("https://")) {
        return;
    }
    warnings.push_back(std::string(origin) +
                       ": webhook.public_url = " + toml_quoted(webhook.public_url) +
                       " is not https; MusicGPT only delivers webhooks to https URLs, so put "
                       "stemd behind a TLS-terminating proxy and give its https address");
}

// The token is always asked for, so this may start; but it is then the one
// thing between the network and the user's credits.
void warn_about_api_listen(const api_settings& api, std::string_view origin,
                           std::vector<std::string>& warnings) {
    if (is_loopback_address(api.listen.host)) {
        return;
    }
    warnings.push_back(std::string(origin) +
                       ": api.listen = " + toml_quoted(api.listen.to_string()) +
                       " is not a loopback address: the API, which spends MusicGPT credits, is "
                       "reachable from the network with only its token guarding it; keep it on "
                       "127.0.0.1 unless other machines must use it (and name this host in "
                       "api.allowed_hosts for them)");
}

} // namespace

std::filesystem::path api_token_file(const settings& s) {
    if (!s.api.token_file.empty()) {
        return s.api.token_file;
    }
    return s.storage.database.parent_path() / "api-token";
}

bool is_postgres_uri(std::string_view text) {
    return text.starts_with("postgresql://") || text.starts_with("postgres://");
}

std::string postgres_passfile() {
    if (environment_variable("PGPASSFILE")) {
        return {};
    }
    const auto dir = environment_variable("CREDENTIALS_DIRECTORY");
    if (!dir || dir->empty()) {
        return {};
    }
    const std::filesystem::path file = std::filesystem::path(*dir) / "pgpass";
    std::error_code ec;
    return std::filesystem::is_regular_file(file, ec) ? file.string() : std::string();
}

std::vector<std::string> key_names() {
    settings unused;
    std::vector<std::string> out;
    for (const auto& table : tables_of(unused))
        for (const auto& key : table.keys)
            out.push_back(std::string(table.name) + "." + std::string(key.name));
    return out;
}

result<settings> parse(std::string_view toml_text, std::string_view origin) {
    settings s;
    s.source = std::string(origin);
    // Emptied so that an output_dir given in the file can be told apart
    // from the default (storage.output and output_dir exclude each other).
    s.storage.output_dir.clear();
    if (auto read = read_tables(toml_text, origin, tables_of(s)); !read) {
        return read.error();
    }
    const bool output_dir_set = !s.storage.output_dir.empty();
    if (!output_dir_set)
        s.storage.output_dir = storage_settings{}.output_dir;
    if (auto refused = apply_output(s.storage.output, output_dir_set, s.storage.output_dir, s.s3)) {
        return failure(error::bad_value, std::string(origin) + ": " + *refused);
    }
    warn_about_public_url(s.webhook, origin, s.warnings);
    warn_about_api_listen(s.api, origin, s.warnings);
    return s;
}

} // namespace stemd::config
