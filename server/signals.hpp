#pragma once

// The daemon's signals: SIGHUP reloads the webhook listener's TLS
// certificate, SIGINT/SIGTERM stop it gracefully. Included only by serve.cpp
// (it pulls in Asio).

#include "config/settings.hpp"
#include "listener/http_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <memory>
#include <vector>

namespace stemd::jobs {
class service;
}

namespace stemd::server {

// webhook.tls_cert/tls_key as a server context; nullptr when TLS is off.
// Throws naming the file that cannot be used (a start-up failure).
std::shared_ptr<boost::asio::ssl::context> load_webhook_tls(const config::webhook_settings& w);

// SIGHUP re-reads the webhook listener's certificate and key (renewed by
// certbot or the like) for connections accepted from then on. A pair that
// cannot be used is reported and the one in use stays, so a half-written
// renewal never takes the listener down. `hangup` is registered by the
// caller before the loop runs, so an early SIGHUP is queued rather than
// ending the process.
boost::asio::awaitable<void> reload_on_sighup(boost::asio::signal_set& hangup,
                                              listener::http_server& webhook_server,
                                              const config::webhook_settings& w);

// Waits for SIGINT/SIGTERM: the first stops intake and lets in-flight
// requests finish (up to 5 s), the second (or the deadline) stops at once.
// Downloads in flight keep their .part files and resume at the next start.
boost::asio::awaitable<void> shutdown_on_signal(boost::asio::io_context& ctx,
                                                std::vector<listener::http_server*> servers,
                                                jobs::service& service);

} // namespace stemd::server
