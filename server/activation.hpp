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

// Logs which address a listener uses when systemd passed its socket: the
// passed one, and says so when `key` (e.g. "webhook.listen") in `source`
// names another.
void log_passed_socket(std::string_view key, const config::endpoint& configured,
                       const std::string& passed, const std::string& source);

} // namespace stemd::server
