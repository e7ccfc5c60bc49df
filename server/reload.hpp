#pragma once

// SIGHUP: re-read the configuration file and apply what can change in a
// running daemon. Included only by serve.cpp (it pulls in Asio).

#include "config/settings.hpp"
#include "listener/http_server.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/signal_set.hpp>

#include <string>
#include <vector>

namespace stemd::jobs {
class service;
}

namespace stemd::server {

class systemd_notifier;
class api_access;
struct webhook_context;

// What a reload reads from and changes; all outlive the reload coroutine.
struct reload_targets {
    config::settings& in_use; // updated with each key applied
    listener::http_server& webhook_server;
    webhook_context& hook;
    jobs::service& service;
    systemd_notifier& notifier;
    // The address of the socket systemd passed for each listener, "" when
    // stemd bound the configured one: what "still using" names.
    std::string webhook_socket;
    std::string api_socket;
    // The API's access check, whose token is read again from
    // api.token_file; null: the token is not reloaded.
    api_access* access = nullptr;
};

// Applied without a restart: webhook.tls_cert/tls_key (the files are read
// again even when their names did not change: a renewal), webhook.
// signing_secret, webhook.secret, musicgpt.api_key / api_key_file,
// retention.keep_days / delete_files, and the API token in api.token_file
// (read again; a new one ends every session of the page). Each
// change is logged by key name, never by value. Any other key that changed
// is refused with a line saying it needs a restart and what is still in
// use; a file that no longer loads changes nothing (its error is logged).
// systemd is told RELOADING=1 … READY=1 around it.
void reload_config(reload_targets& t);

// Every key whose value differs, in the order of config::key_names(), and
// whether reload_config applies it (else it needs a restart).
struct key_change {
    std::string key;
    bool applied = false;
};
std::vector<key_change> changed_keys(const config::settings& in_use, const config::settings& fresh);

// The keys that need a restart whose values differ, each as
// "key changed in FILE: needs a restart, still using VALUE"; for a listener
// whose socket systemd passed (`webhook_socket`, `api_socket` not empty)
// VALUE is that socket's address.
std::vector<std::string> restart_only_changes(const config::settings& in_use,
                                              const config::settings& fresh,
                                              const std::string& webhook_socket = "",
                                              const std::string& api_socket = "");

// Runs reload_config on every SIGHUP. `hangup` is registered by the caller
// before the loop runs, so an early SIGHUP is queued rather than ending the
// process.
boost::asio::awaitable<void> reload_on_sighup(boost::asio::signal_set& hangup, reload_targets t);

} // namespace stemd::server
