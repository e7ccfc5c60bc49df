#include "server/reload.hpp"

#include "client/tls.hpp"
#include "client/url.hpp"
#include "common/crypto.hpp"
#include "common/log.hpp"
#include "common/text.hpp"
#include "config/settings.hpp"
#include "jobs/service.hpp"
#include "server/api_access.hpp"
#include "server/api_token.hpp"
#include "server/notify.hpp"
#include "server/session_book.hpp"
#include "server/webhook_handler.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <functional>
#include <stdexcept>

namespace stemd::server {

namespace net = boost::asio;

namespace {

std::string shown(const std::string& v) {
    return v.empty() ? "\"\"" : v;
}
std::string shown(const std::filesystem::path& v) {
    return shown(v.string());
}
std::string shown(const config::endpoint& v) {
    return v.to_string();
}
std::string shown(bool v) {
    return v ? "true" : "false";
}
std::string shown(std::int64_t v) {
    return std::to_string(v);
}
std::string shown(int v) {
    return std::to_string(v);
}
template <class T> std::string shown(const std::vector<T>& items) {
    std::vector<std::string> out;
    for (const auto& i : items)
        out.push_back(shown(i));
    return "[" + join(out, ", ") + "]";
}

// A URL whose query may carry a routing key or token: shown without it
// (client::redact), and the query by a digest, so that a change to it alone
// is still a change.
std::string shown_url(const std::string& url) {
    const std::string cut = client::redact(url);
    if (url.empty() || cut == url)
        return shown(url);
    return cut + " (query withheld; SHA-256 of the URL begins " + sha256_hex(url).substr(0, 8) +
           ")";
}

// A command's arguments may carry secrets: only the program is shown.
std::string shown_command(const std::vector<std::string>& argv) {
    if (argv.empty())
        return "[]";
    std::string joined;
    for (const auto& a : argv)
        joined += a + '\0';
    return "[" + argv.front() + ", " + std::to_string(argv.size() - 1) +
           " arguments withheld] (SHA-256 begins " + sha256_hex(joined).substr(0, 8) + ")";
}

struct known_key {
    const char* name;
    std::function<std::string(const config::settings&)> value;
    bool reloadable; // applied by reload_config; else read once at start
};

// Every key of config::key_names(), each either applied by a reload or read
// once at start (listeners bound, store opened, parts configured). Values
// are shown only for the keys that need a restart, and no secret is among
// those.
#define STEMD_KEY(table, key, reloadable)                                                          \
    known_key {                                                                                    \
#table "." #key, [](const config::settings& s) {                                           \
            return shown(s.table.key);                                                             \
        }, reloadable                                                                              \
    }
const std::vector<known_key>& known_keys() {
    static const std::vector<known_key> keys{
        STEMD_KEY(musicgpt, base_url, false),
        STEMD_KEY(musicgpt, api_version, false),
        STEMD_KEY(musicgpt, api_key, true),
        STEMD_KEY(musicgpt, api_key_file, true),
        STEMD_KEY(musicgpt, ca_file, false),
        STEMD_KEY(webhook, listen, false),
        STEMD_KEY(webhook, public_url, false),
        STEMD_KEY(webhook, secret, true),
        STEMD_KEY(webhook, tls_cert, true),
        STEMD_KEY(webhook, tls_key, true),
        STEMD_KEY(webhook, signing_secret, true),
        STEMD_KEY(api, listen, false),
        STEMD_KEY(api, token_file, false),
        STEMD_KEY(api, allowed_hosts, false),
        STEMD_KEY(api, upload_max_bytes, false),
        STEMD_KEY(api, file_roots, false),
        // A PostgreSQL URI is kept in database_uri (database then stays
        // at its default), so it is the value to compare when set; shown
        // as any URL is, without a user or a query (config refuses a
        // password, but a URI's query could still carry one).
        known_key{"storage.database",
                  [](const config::settings& s) {
                      if (s.storage.database_uri.empty())
                          return shown(s.storage.database);
                      return shown_url(s.storage.database_uri);
                  },
                  false},
        STEMD_KEY(storage, output_dir, false),
        STEMD_KEY(storage, output, false),
        STEMD_KEY(s3, endpoint, false),
        STEMD_KEY(s3, region, false),
        STEMD_KEY(s3, allow_http, false),
        STEMD_KEY(s3, credentials_file, false),
        STEMD_KEY(s3, profile, false),
        STEMD_KEY(s3, ca_file, false),
        STEMD_KEY(download, concurrency, false),
        STEMD_KEY(download, max_attempts, false),
        STEMD_KEY(download, max_link_refreshes, false),
        STEMD_KEY(download, ca_file, false),
        STEMD_KEY(download, allow_http, false),
        STEMD_KEY(download, allow_private_addresses, false),
        STEMD_KEY(download, max_bytes, false),
        STEMD_KEY(download, idle_timeout, false),
        STEMD_KEY(download, max_seconds, false),
        STEMD_KEY(limits, header_bytes, false),
        STEMD_KEY(limits, body_bytes, false),
        STEMD_KEY(limits, request_timeout, false),
        STEMD_KEY(limits, idle_timeout, false),
        STEMD_KEY(limits, max_connections, false),
        STEMD_KEY(limits, max_connections_per_address, false),
        STEMD_KEY(limits, max_requests_per_connection, false),
        STEMD_KEY(reconcile, overdue_factor, false),
        STEMD_KEY(reconcile, overdue_floor, false),
        STEMD_KEY(reconcile, status_per_minute, false),
        STEMD_KEY(reconcile, unknown_task_after, false),
        STEMD_KEY(retention, keep_days, true),
        STEMD_KEY(retention, delete_files, true),
        known_key{"notify.url", [](const config::settings& s) { return shown_url(s.notify.url); },
                  false},
        // Restart-only like the rest of [notify], and shown by a digest so
        // that "still using ..." never prints the secret.
        known_key{"notify.signing_secret",
                  [](const config::settings& s) {
                      return "(the secret whose SHA-256 begins " +
                             sha256_hex(s.notify.signing_secret).substr(0, 8) + ")";
                  },
                  false},
        STEMD_KEY(notify, allow_http, false),
        STEMD_KEY(notify, ca_file, false),
        STEMD_KEY(notify, timeout_seconds, false),
        known_key{"notify.command",
                  [](const config::settings& s) { return shown_command(s.notify.command); }, false},
        STEMD_KEY(notify, command_timeout_seconds, false),
    };
    return keys;
}
#undef STEMD_KEY

std::string changed_in(std::string_view key, const config::settings& fresh) {
    return std::string(key) + " changed in " + fresh.source;
}

// The certificate files are read again whenever TLS stays on (a renewal
// keeps their names); turning TLS on or off rebuilds the listener.
void reload_tls(reload_targets& t, const config::settings& fresh) {
    auto& w = t.in_use.webhook;
    if (w.tls_cert.empty() != fresh.webhook.tls_cert.empty()) {
        log_warning("", changed_in("webhook.tls_cert", fresh) + ": turning HTTPS " +
                            (w.tls_cert.empty() ? "on" : "off") + " needs a restart, still using " +
                            shown(w.tls_cert));
        return;
    }
    if (w.tls_cert.empty())
        return;
    try {
        t.webhook_server.set_tls(
            client::make_tls_server_context(fresh.webhook.tls_cert, fresh.webhook.tls_key));
        w.tls_cert = fresh.webhook.tls_cert;
        w.tls_key = fresh.webhook.tls_key;
        log_info("", "reloaded the webhook TLS certificate " + w.tls_cert + " for new connections");
    } catch (const std::exception& e) {
        log_error("", std::string("still using the previous webhook TLS certificate, the new "
                                  "one cannot be used: ") +
                          e.what());
    }
}

void reload_signing(reload_targets& t, const config::settings& fresh) {
    const std::string& secret = fresh.webhook.signing_secret;
    if (secret == t.in_use.webhook.signing_secret)
        return;
    try {
        std::optional<signature_verifier> next;
        if (!secret.empty())
            next.emplace(secret);
        t.hook.signing = std::move(next);
        t.in_use.webhook.signing_secret = secret;
        log_info("", changed_in("webhook.signing_secret", fresh) +
                         (secret.empty() ? ": deliveries need no signature from now on"
                                         : ": deliveries are checked against the new secret"));
    } catch (const std::exception& e) {
        log_error("", changed_in("webhook.signing_secret", fresh) +
                          ", but the new value cannot be used (" + e.what() +
                          "); still checking deliveries against the previous one");
    }
}

void reload_secrets(reload_targets& t, const config::settings& fresh) {
    if (fresh.webhook.secret != t.in_use.webhook.secret) {
        t.hook.secret = fresh.webhook.secret;
        t.in_use.webhook.secret = fresh.webhook.secret;
        log_info("", changed_in("webhook.secret", fresh) + ": applied to deliveries from now on");
    }
    auto& m = t.in_use.musicgpt;
    if (fresh.musicgpt.api_key_file != m.api_key_file) {
        m.api_key_file = fresh.musicgpt.api_key_file;
        log_info("", changed_in("musicgpt.api_key_file", fresh) + ": applied");
    }
    if (fresh.musicgpt.api_key != m.api_key) {
        m.api_key = fresh.musicgpt.api_key;
        t.service.set_api_key(m.api_key);
        log_info("", "the MusicGPT API key (musicgpt.api_key or "
                     "musicgpt.api_key_file) changed: requests from now on use the new one");
    }
}

// Policy, not plumbing: the pruner and POST /v1/prune follow at once.
void reload_retention(reload_targets& t, const config::settings& fresh) {
    auto& r = t.in_use.retention;
    const auto& next = fresh.retention;
    if (next.keep_days == r.keep_days && next.delete_files == r.delete_files)
        return;
    if (next.keep_days != r.keep_days)
        log_info("",
                 changed_in("retention.keep_days", fresh) + ": applied, " +
                     (next.keep_days == 0 ? std::string("finished jobs are kept for ever")
                                          : "finished jobs go " + std::to_string(next.keep_days) +
                                                " days after their last change, checked now"));
    if (next.delete_files != r.delete_files)
        log_info("", changed_in("retention.delete_files", fresh) + ": applied, pruned jobs' " +
                         (next.delete_files ? "stem files are removed" : "stem files are kept"));
    r = next;
    t.service.set_retention(r.keep_days, r.delete_files);
}

// The file api.token_file names is read again (its name needs a restart):
// a new token takes over at once, and the page's sessions, signed in with
// the old one, end.
void reload_api_token(reload_targets& t) {
    if (t.access == nullptr)
        return;
    const auto file = config::api_token_file(t.in_use);
    std::string token;
    try {
        token = load_or_create_api_token(file);
    } catch (const std::exception& e) {
        log_error("", std::string("still using the previous API token: ") + e.what());
        return;
    }
    if (t.access->token_matches(token))
        return;
    t.access->set_token(token);
    std::size_t ended = 0;
    if (auto* sessions = t.access->sessions()) {
        ended = sessions->sessions();
        sessions->close_all();
    }
    log_info("", "the API token in " + file.string() + " changed: clients must send the new one; " +
                     std::to_string(ended) + " page sessions ended (sign in again)");
}

} // namespace

std::vector<key_change> changed_keys(const config::settings& in_use,
                                     const config::settings& fresh) {
    std::vector<key_change> out;
    for (const auto& key : known_keys())
        if (key.value(fresh) != key.value(in_use))
            out.push_back({key.name, key.reloadable});
    return out;
}

std::vector<std::string> restart_only_changes(const config::settings& in_use,
                                              const config::settings& fresh,
                                              const std::string& webhook_socket,
                                              const std::string& api_socket) {
    std::vector<std::string> out;
    for (const auto& key : known_keys()) {
        std::string now = key.value(in_use);
        if (key.reloadable || key.value(fresh) == now)
            continue;
        const std::string_view name = key.name;
        const std::string& passed = name == "webhook.listen" ? webhook_socket
                                    : name == "api.listen"   ? api_socket
                                                             : std::string();
        if (!passed.empty())
            now = passed + " (the socket systemd passed)";
        out.push_back(changed_in(name, fresh) + ": needs a restart, still using " + now);
    }
    return out;
}

void reload_config(reload_targets& t) {
    t.notifier.reloading();
    if (t.in_use.source == "built-in defaults") {
        log_info("", "received SIGHUP: stemd runs on built-in defaults, no file to re-read");
        reload_api_token(t);
        t.notifier.reloaded();
        return;
    }
    auto fresh = config::load_file(t.in_use.source);
    if (!fresh) {
        log_error("", "received SIGHUP: " + fresh.error().message +
                          "; keeping the whole configuration in use");
        t.notifier.reloaded();
        return;
    }
    log_info("", "received SIGHUP: re-reading " + t.in_use.source);
    for (const auto& w : fresh->warnings)
        log_warning("", w);
    for (const auto& refused :
         restart_only_changes(t.in_use, *fresh, t.webhook_socket, t.api_socket))
        log_warning("", refused);
    reload_tls(t, *fresh);
    reload_signing(t, *fresh);
    reload_secrets(t, *fresh);
    reload_retention(t, *fresh);
    reload_api_token(t);
    t.notifier.reloaded();
}

net::awaitable<void> reload_on_sighup(net::signal_set& hangup, reload_targets t) {
    for (;;) {
        auto [ec, sig] = co_await hangup.async_wait(net::as_tuple(net::use_awaitable));
        if (ec)
            co_return;
        reload_config(t);
    }
}

} // namespace stemd::server
