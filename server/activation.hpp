#pragma once

// Socket activation: the listening sockets systemd hands over
// (deploy/stemd.socket), used instead of binding.

#include "config/endpoint.hpp"

#include <string>
#include <string_view>

namespace stemd::server {

struct passed_sockets {
    int webhook = -1; // -1: none passed, bind webhook.listen
    int api = -1;
};

// The sockets passed through $LISTEN_FDS / $LISTEN_FDNAMES (the variables
// are then removed, so nothing started later takes them for its own).
// Which is which: a socket named "webhook" or "api" (FileDescriptorName=,
// one socket unit each); else the one whose port is webhook.listen's or
// api.listen's; else the order of ListenStream= (webhook first), since one
// socket unit gives all its sockets the same name. Any further socket is
// logged and closed.
passed_sockets take_passed_sockets(const config::endpoint& webhook_listen,
                                   const config::endpoint& api_listen);

// Whether a passed socket bound to `passed` ("host:port", IPv6 in
// brackets) is the listener `configured` names: the same address and port,
// or the same port where both are an any-address of either family
// (ListenStream=8080 binds [::]:8080, which takes IPv4 too).
bool same_listener(const config::endpoint& configured, const std::string& passed);

// Logs which address a listener uses when systemd passed its socket: the
// passed one, and says so when `key` (e.g. "webhook.listen") in `source`
// names another (same_listener).
void log_passed_socket(std::string_view key, const config::endpoint& configured,
                       const std::string& passed, const std::string& source);

} // namespace stemd::server
