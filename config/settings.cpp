#include "config/settings.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <span>
#include <sstream>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

namespace stemd::config {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view built_in_source = "built-in defaults";
constexpr std::string_view api_key_variable = "MUSICGPT_API_KEY";
constexpr std::string_view config_variable = "STEMD_CONFIG";

problem make_problem(error e, std::string message) {
    return {make_error_code(e), std::move(message)};
}

// ---------------------------------------------------------------------------
// The keys stemd knows, in the order the documentation lists them. Anything
// else is refused so that a typo cannot silently fall back to a default.

constexpr std::string_view musicgpt_keys[] = {"base_url", "api_version", "api_key", "api_key_file",
                                              "ca_file"};
constexpr std::string_view webhook_keys[] = {"listen",  "public_url", "secret",
                                             "tls_cert", "tls_key",   "signing_secret"};
constexpr std::string_view api_keys[] = {"listen"};
constexpr std::string_view storage_keys[] = {"database", "output_dir"};
constexpr std::string_view download_keys[] = {"concurrency", "max_attempts", "ca_file",
                                              "allow_http", "allow_private_addresses",
                                              "max_bytes", "idle_timeout"};
constexpr std::string_view limits_keys[] = {"header_bytes", "body_bytes", "request_timeout",
                                            "idle_timeout", "max_connections"};
constexpr std::string_view reconcile_keys[] = {"overdue_factor", "overdue_floor",
                                               "status_per_minute"};

struct table_schema {
    std::string_view name;
    std::span<const std::string_view> keys;
};

constexpr table_schema musicgpt_table{"musicgpt", musicgpt_keys};
constexpr table_schema webhook_table{"webhook", webhook_keys};
constexpr table_schema api_table{"api", api_keys};
constexpr table_schema storage_table{"storage", storage_keys};
constexpr table_schema download_table{"download", download_keys};
constexpr table_schema limits_table{"limits", limits_keys};
constexpr table_schema reconcile_table{"reconcile", reconcile_keys};
constexpr table_schema all_tables[] = {musicgpt_table, webhook_table, api_table,     storage_table,
                                       download_table, limits_table,  reconcile_table};

constexpr int min_secret_length = 16;

// ---------------------------------------------------------------------------
// Text helpers for messages.

template <typename Range> std::string join(const Range& items, std::string_view separator) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) {
            out += separator;
        }
        out += item;
    }
    return out;
}

std::string known_table_names() {
    std::string out;
    for (const auto& table : all_tables) {
        if (!out.empty()) {
            out += ", ";
        }
        out += table.name;
    }
    return out;
}

// URL query strings and fragments may carry tokens, so messages cut them off.
std::string without_query(std::string_view text) {
    if (text.find("://") == std::string_view::npos) {
        return std::string(text);
    }
    const auto cut = text.find_first_of("?#");
    if (cut == std::string_view::npos) {
        return std::string(text);
    }
    return std::string(text.substr(0, cut)) + "?...";
}

// The value as it would be written in TOML, so the reader can find it.
std::string toml_quoted(std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "\"";
    for (const char c : without_query(text)) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20 || byte == 0x7f) {
            out += "\\u00";
            out += hex[byte >> 4];
            out += hex[byte & 0xf];
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

std::string_view type_name(const toml::node& node) {
    switch (node.type()) {
    case toml::node_type::string:
        return "a string";
    case toml::node_type::integer:
        return "an integer";
    case toml::node_type::floating_point:
        return "a floating-point number";
    case toml::node_type::boolean:
        return "a boolean";
    case toml::node_type::date:
        return "a date";
    case toml::node_type::time:
        return "a time";
    case toml::node_type::date_time:
        return "a date-time";
    case toml::node_type::array:
        return "an array";
    case toml::node_type::table:
        return "a table";
    case toml::node_type::none:
        break;
    }
    return "nothing";
}

// A short rendering of a scalar; empty for values better described by their
// type alone (tables, arrays, dates).
std::string shown_value(const toml::node& node) {
    if (const auto* s = node.as_string()) {
        return toml_quoted(s->get());
    }
    if (const auto* i = node.as_integer()) {
        return std::to_string(i->get());
    }
    if (const auto* b = node.as_boolean()) {
        return b->get() ? "true" : "false";
    }
    if (const auto* f = node.as_floating_point()) {
        std::ostringstream out;
        out << f->get();
        std::string text = out.str();
        // "4" would hide why an integer key refuses it.
        if (text.find_first_of(".eEin") == std::string::npos) {
            text += ".0";
        }
        return text;
    }
    return {};
}

std::string_view trimmed(std::string_view text) {
    constexpr std::string_view space = " \t\r\n\v\f";
    const auto first = text.find_first_not_of(space);
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(space);
    return text.substr(first, last - first + 1);
}

std::optional<std::string> environment(std::string_view name) {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr || *value == '\0') {
        return std::nullopt;
    }
    return std::string(value);
}

// POSIX I/O rather than streams: the errno text is what tells a person
// whether the path is wrong or the permissions are.
boost::system::result<std::string> read_whole_file(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return boost::system::error_code(errno, boost::system::system_category());
    }
    std::string text;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n == 0) {
            break;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            const int saved = errno;
            ::close(fd);
            return boost::system::error_code(saved, boost::system::system_category());
        }
        text.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return text;
}

// ---------------------------------------------------------------------------
// Value checks. Each may normalise the value and returns, when it refuses
// it, the rest of the sentence that follows "table.key = value".

using string_check = std::optional<std::string> (*)(std::string& value);

std::optional<std::string> check_http_url(std::string& value) {
    const std::string_view text = value;
    std::string_view rest;
    if (text.starts_with("https://")) {
        rest = text.substr(8);
    } else if (text.starts_with("http://")) {
        rest = text.substr(7);
    } else {
        return "is not an http(s) URL: write it like https://host/path";
    }
    if (rest.substr(0, rest.find('/')).empty()) {
        return "has no host: write it like https://host/path";
    }
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte == 0x7f) {
            return "contains a space or control character: percent-encode it or remove it";
        }
    }
    if (text.find_first_of("?#") != std::string_view::npos) {
        return "has a query or fragment: give only the scheme, host and path";
    }
    while (value.ends_with('/')) {
        value.pop_back();
    }
    return std::nullopt;
}

std::optional<std::string> check_optional_http_url(std::string& value) {
    if (value.empty()) {
        return std::nullopt;
    }
    return check_http_url(value);
}

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

std::optional<std::string> check_not_empty(std::string& value) {
    if (!value.empty()) {
        return std::nullopt;
    }
    return "is empty: give a path (relative paths are taken from the working directory)";
}

// ---------------------------------------------------------------------------
// Endpoints.

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

bool is_ipv6_char(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
           c == '.';
}

std::optional<std::uint16_t> parse_port(std::string_view text, std::string& why) {
    if (text.empty()) {
        why = "the port is missing after ':'";
        return std::nullopt;
    }
    unsigned long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range) {
        value = 65536; // reported as out of range below
    } else if (ec != std::errc{} || end != text.data() + text.size()) {
        why = "the port \"" + std::string(text) + "\" is not a number";
        return std::nullopt;
    }
    if (value < 1 || value > 65535) {
        why = "port " + std::string(text) + " is out of range: use 1 to 65535";
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
}

// Splits "host:port" or "[v6]:port"; on failure `why` says what is wrong.
std::optional<endpoint> split_endpoint(std::string_view text, std::string& why) {
    constexpr std::string_view example = " (write host:port, e.g. 127.0.0.1:8081 or [::1]:8081)";
    if (text.empty()) {
        why = "it is empty" + std::string(example);
        return std::nullopt;
    }
    std::string_view host;
    std::string_view after_host;
    if (text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) {
            why = "the IPv6 address has no closing ']'" + std::string(example);
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        if (host.find(':') == std::string_view::npos ||
            !std::all_of(host.begin(), host.end(), is_ipv6_char)) {
            why = "\"" + std::string(host) + "\" in brackets is not an IPv6 address";
            return std::nullopt;
        }
        after_host = text.substr(close + 1);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            why = "the port is missing" + std::string(example);
            return std::nullopt;
        }
        host = text.substr(0, colon);
        after_host = text.substr(colon);
        if (host.find(':') != std::string_view::npos) {
            why = "an IPv6 address must be in brackets, e.g. [::1]:8081";
            return std::nullopt;
        }
        if (host.empty()) {
            why = "the host is missing (use 0.0.0.0 for every IPv4 address, [::] for every "
                  "IPv6 address)";
            return std::nullopt;
        }
        if (!std::all_of(host.begin(), host.end(), is_name_char)) {
            why = "the host \"" + std::string(host) +
                  "\" is not a host name or IP address (letters, digits, '-', '.', '_')";
            return std::nullopt;
        }
    }
    if (!after_host.starts_with(':')) {
        why = "the port is missing" + std::string(example);
        return std::nullopt;
    }
    const auto port = parse_port(after_host.substr(1), why);
    if (!port) {
        return std::nullopt;
    }
    return endpoint{std::string(host), *port};
}

// ---------------------------------------------------------------------------
// Reading one table.

// Reads the keys of one [table]. It keeps the first problem and ignores later
// reads, so each table's code is a plain list of its keys.
class table_reader {
public:
    table_reader(const toml::table& root, const table_schema& schema, std::string_view origin)
        : table_(root.get_as<toml::table>(schema.name)), schema_(schema), origin_(origin) {
        refuse_unknown_keys();
    }

    const std::optional<problem>& failure() const { return failure_; }

    void fail(error code, std::string_view what) {
        if (!failure_) {
            failure_ = make_problem(code, std::string(origin_) + ": " + std::string(what));
        }
    }

    std::string full_name(std::string_view key) const {
        return std::string(schema_.name) + "." + std::string(key);
    }

    void read_string(std::string_view key, std::string& out, string_check check = nullptr) {
        read_text(key, out, check, false);
    }

    // Like read_string, but the value never appears in a message.
    void read_secret(std::string_view key, std::string& out, string_check check = nullptr) {
        read_text(key, out, check, true);
    }

    void read_path(std::string_view key, fs::path& out) {
        std::string text = out.string();
        read_text(key, text, check_not_empty, false);
        out = text;
    }

    void read_int(std::string_view key, int& out, int low, int high) {
        std::int64_t wide = out;
        read_int64(key, wide, low, high);
        out = static_cast<int>(wide);
    }

    void read_int64(std::string_view key, std::int64_t& out, std::int64_t low,
                    std::int64_t high) {
        const toml::node* node = find(key);
        if (node == nullptr) {
            return;
        }
        const std::string range = std::to_string(low) + " to " + std::to_string(high);
        const auto* value = node->as_integer();
        if (value == nullptr) {
            wrong_type(key, *node, "an integer from " + range, false);
            return;
        }
        const std::int64_t number = value->get();
        if (number < low || number > high) {
            fail(error::bad_value, full_name(key) + " = " + std::to_string(number) +
                                       " is out of range: use " + range);
            return;
        }
        out = number;
    }

    void read_bool(std::string_view key, bool& out) {
        const toml::node* node = find(key);
        if (node == nullptr) {
            return;
        }
        const auto* value = node->as_boolean();
        if (value == nullptr) {
            wrong_type(key, *node, "true or false (without quotes)", false);
            return;
        }
        out = value->get();
    }

    void read_endpoint(std::string_view key, endpoint& out) {
        const toml::node* node = find(key);
        if (node == nullptr) {
            return;
        }
        const auto* value = node->as_string();
        if (value == nullptr) {
            wrong_type(key, *node, "a string \"host:port\"", false);
            return;
        }
        std::string why;
        auto parsed = split_endpoint(value->get(), why);
        if (!parsed) {
            fail(error::bad_value, full_name(key) + " = " + toml_quoted(value->get()) +
                                       " is not a valid endpoint: " + why);
            return;
        }
        out = std::move(*parsed);
    }

private:
    const toml::node* find(std::string_view key) const {
        if (failure_ || table_ == nullptr) {
            return nullptr;
        }
        return table_->get(key);
    }

    void refuse_unknown_keys() {
        if (table_ == nullptr) {
            return;
        }
        for (const auto& [key, value] : *table_) {
            const auto& known = schema_.keys;
            if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
                fail(error::unknown_key, "unknown key \"" + full_name(key.str()) +
                                             "\" (known keys in [" + std::string(schema_.name) +
                                             "]: " + join(known, ", ") + ")");
                return;
            }
        }
    }

    void read_text(std::string_view key, std::string& out, string_check check, bool secret) {
        const toml::node* node = find(key);
        if (node == nullptr) {
            return;
        }
        const auto* value = node->as_string();
        if (value == nullptr) {
            wrong_type(key, *node, "a string in quotes", secret);
            return;
        }
        std::string text = value->get();
        if (check != nullptr) {
            if (auto complaint = check(text)) {
                const std::string shown = secret ? "" : " = " + toml_quoted(value->get());
                fail(error::bad_value, full_name(key) + shown + " " + *complaint);
                return;
            }
        }
        out = std::move(text);
    }

    void wrong_type(std::string_view key, const toml::node& node, std::string_view expected,
                    bool secret) {
        std::string what = full_name(key);
        if (const std::string shown = shown_value(node); !secret && !shown.empty()) {
            what += " = " + shown;
        }
        what += " is ";
        what += type_name(node);
        what += ": expected ";
        what += expected;
        fail(error::bad_value, what);
    }

    const toml::table* table_;
    const table_schema& schema_;
    std::string_view origin_;
    std::optional<problem> failure_;
};

// Top level: only the known tables, each written as a table.
std::optional<problem> check_layout(const toml::table& root, std::string_view origin) {
    for (const auto& [key, value] : root) {
        // Not `key` inside the lambda: clang 14 (the fuzz build) cannot
        // capture structured bindings.
        const std::string name(key.str());
        const auto* schema = std::find_if(std::begin(all_tables), std::end(all_tables),
                                          [&](const auto& t) { return t.name == name; });
        if (schema == std::end(all_tables)) {
            const std::string what = value.is_table()
                                         ? "unknown table [" + name + "]"
                                         : "unknown key \"" + name + "\" outside any table";
            return make_problem(error::unknown_key, std::string(origin) + ": " + what +
                                                        " (known tables: " + known_table_names() +
                                                        ")");
        }
        if (!value.is_table()) {
            std::string what = std::string(origin) + ": " + name;
            if (const std::string shown = shown_value(value); !shown.empty()) {
                what += " = " + shown;
            }
            return make_problem(error::bad_value, what + " is " + std::string(type_name(value)) +
                                                      ": expected a table, written [" + name + "]");
        }
    }
    return std::nullopt;
}

std::optional<problem> read_musicgpt(const toml::table& root, std::string_view origin,
                                     musicgpt_settings& out) {
    table_reader table(root, musicgpt_table, origin);
    table.read_string("base_url", out.base_url, check_http_url);
    table.read_string("api_version", out.api_version, check_api_version);
    table.read_secret("api_key", out.api_key);
    std::string key_file;
    table.read_string("api_key_file", key_file);
    out.api_key_file = key_file;
    table.read_string("ca_file", out.ca_file);
    if (!out.api_key.empty() && !out.api_key_file.empty()) {
        table.fail(error::bad_value, "musicgpt.api_key and musicgpt.api_key_file are both set: "
                                     "keep only one (api_key_file keeps the key out of this "
                                     "file)");
    }
    return table.failure();
}

std::optional<problem> read_webhook(const toml::table& root, std::string_view origin,
                                    webhook_settings& out) {
    table_reader table(root, webhook_table, origin);
    table.read_endpoint("listen", out.listen);
    table.read_string("public_url", out.public_url, check_optional_http_url);
    table.read_secret("secret", out.secret, check_webhook_secret);
    table.read_string("tls_cert", out.tls_cert);
    table.read_string("tls_key", out.tls_key);
    table.read_secret("signing_secret", out.signing_secret, check_signing_secret);
    if (out.tls_cert.empty() != out.tls_key.empty()) {
        table.fail(error::bad_value, "webhook.tls_cert and webhook.tls_key go together: set "
                                     "both for HTTPS, or neither");
    }
    return table.failure();
}

std::optional<problem> read_api(const toml::table& root, std::string_view origin,
                                api_settings& out) {
    table_reader table(root, api_table, origin);
    table.read_endpoint("listen", out.listen);
    return table.failure();
}

std::optional<problem> read_storage(const toml::table& root, std::string_view origin,
                                    storage_settings& out) {
    table_reader table(root, storage_table, origin);
    table.read_path("database", out.database);
    table.read_path("output_dir", out.output_dir);
    return table.failure();
}

std::optional<problem> read_download(const toml::table& root, std::string_view origin,
                                     download_settings& out) {
    table_reader table(root, download_table, origin);
    table.read_int("concurrency", out.concurrency, 1, 64);
    table.read_int("max_attempts", out.max_attempts, 1, 100);
    table.read_string("ca_file", out.ca_file);
    table.read_bool("allow_http", out.allow_http);
    table.read_bool("allow_private_addresses", out.allow_private_addresses);
    table.read_int64("max_bytes", out.max_bytes, 1, std::int64_t{1} << 40);
    table.read_int("idle_timeout", out.idle_timeout, 1, 3600);
    return table.failure();
}

std::optional<problem> read_limits(const toml::table& root, std::string_view origin,
                                   limits_settings& out) {
    table_reader table(root, limits_table, origin);
    table.read_int("header_bytes", out.header_bytes, 1024, 1024 * 1024);
    table.read_int("body_bytes", out.body_bytes, 1024, 64 * 1024 * 1024);
    table.read_int("request_timeout", out.request_timeout, 1, 3600);
    table.read_int("idle_timeout", out.idle_timeout, 1, 3600);
    table.read_int("max_connections", out.max_connections, 1, 100000);
    return table.failure();
}

std::optional<problem> read_reconcile(const toml::table& root, std::string_view origin,
                                      reconcile_settings& out) {
    table_reader table(root, reconcile_table, origin);
    table.read_int("overdue_factor", out.overdue_factor, 1, 100);
    table.read_int("overdue_floor", out.overdue_floor, 1, 86400);
    table.read_int("status_per_minute", out.status_per_minute, 1, 10000);
    return table.failure();
}

problem syntax_problem(const toml::parse_error& e, std::string_view origin) {
    const auto& where = e.source().begin;
    return make_problem(error::syntax,
                        std::string(origin) + ": line " + std::to_string(where.line) + ", column " +
                            std::to_string(where.column) +
                            ": this is not valid TOML: " + std::string(e.description()));
}

// ---------------------------------------------------------------------------
// After parsing.

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

// A key in a file others can read is a key others can use.
void warn_if_exposed(const fs::path& path, settings& s) {
    std::vector<std::string_view> secrets;
    if (!s.musicgpt.api_key.empty()) {
        secrets.push_back("musicgpt.api_key");
    }
    if (!s.webhook.secret.empty()) {
        secrets.push_back("webhook.secret");
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

// The file's api_key, else $MUSICGPT_API_KEY, else api_key_file.
std::optional<problem> resolve_api_key(musicgpt_settings& m, std::string_view origin) {
    if (!m.api_key.empty()) {
        return std::nullopt;
    }
    if (auto from_environment = environment(api_key_variable)) {
        m.api_key = std::move(*from_environment);
        return std::nullopt;
    }
    if (m.api_key_file.empty()) {
        return std::nullopt;
    }
    const std::string where =
        std::string(origin) + ": musicgpt.api_key_file " + m.api_key_file.string();
    auto text = read_whole_file(m.api_key_file);
    if (!text) {
        return make_problem(error::secret_unreadable,
                            "cannot read " + where + ": " + text.error().message() +
                                "; check the path and that stemd's user may read it");
    }
    const std::string_view key = trimmed(*text);
    if (key.empty()) {
        return make_problem(error::secret_unreadable,
                            where + " is empty; put the MusicGPT API key in it");
    }
    m.api_key = std::string(key);
    return std::nullopt;
}

} // namespace

std::string endpoint::to_string() const {
    const std::string port_text = std::to_string(port);
    if (host.find(':') != std::string::npos) {
        return "[" + host + "]:" + port_text;
    }
    return host + ":" + port_text;
}

boost::system::result<endpoint, problem> parse_endpoint(std::string_view text) {
    std::string why;
    auto parsed = split_endpoint(text, why);
    if (!parsed) {
        return make_problem(error::bad_value,
                            toml_quoted(text) + " is not a valid endpoint: " + why);
    }
    return std::move(*parsed);
}

boost::system::result<settings, problem> parse(std::string_view toml_text,
                                               std::string_view origin) {
    toml::table root;
    try {
        root = toml::parse(toml_text, origin);
    } catch (const toml::parse_error& e) {
        return syntax_problem(e, origin);
    }

    settings s;
    s.source = std::string(origin);
    std::optional<problem> failure = check_layout(root, origin);
    if (!failure) {
        failure = read_musicgpt(root, origin, s.musicgpt);
    }
    if (!failure) {
        failure = read_webhook(root, origin, s.webhook);
    }
    if (!failure) {
        failure = read_api(root, origin, s.api);
    }
    if (!failure) {
        failure = read_storage(root, origin, s.storage);
    }
    if (!failure) {
        failure = read_download(root, origin, s.download);
    }
    if (!failure) {
        failure = read_limits(root, origin, s.limits);
    }
    if (!failure) {
        failure = read_reconcile(root, origin, s.reconcile);
    }
    if (failure) {
        return std::move(*failure);
    }
    warn_about_public_url(s.webhook, origin, s.warnings);
    return s;
}

boost::system::result<settings, problem> load_file(const fs::path& path) {
    const std::string origin = path.string();
    auto text = read_whole_file(path);
    if (!text) {
        return make_problem(error::file_unreadable, "cannot read config file " + origin + ": " +
                                                        text.error().message() +
                                                        "; check the path and its permissions");
    }
    auto parsed = parse(*text, origin);
    if (!parsed) {
        return parsed.error();
    }
    settings s = std::move(*parsed);
    warn_if_exposed(path, s);
    if (auto failure = resolve_api_key(s.musicgpt, origin)) {
        return std::move(*failure);
    }
    return s;
}

std::optional<fs::path> default_path() {
    if (auto from_environment = environment(config_variable)) {
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

boost::system::result<settings, problem> load(const std::optional<fs::path>& explicit_path) {
    const std::optional<fs::path> path = explicit_path ? explicit_path : default_path();
    if (path) {
        return load_file(*path);
    }
    settings s;
    s.source = std::string(built_in_source);
    if (auto failure = resolve_api_key(s.musicgpt, s.source)) {
        return std::move(*failure);
    }
    return s;
}

} // namespace stemd::config
