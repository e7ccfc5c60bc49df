#pragma once

// The daemon's signals: SIGINT/SIGTERM stop it gracefully (SIGHUP is
// reload.hpp's). Included only by serve.cpp
// (it pulls in Asio).

#include "config/settings.hpp"
#include "listener/http_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <functional>
#include <memory>
#include <vector>

namespace stemd::jobs {
class service;
}

namespace stemd::server {

// webhook.tls_cert/tls_key as a server context; nullptr when TLS is off.
// Throws naming the file that cannot be used (a start-up failure).
std::shared_ptr<boost::asio::ssl::context> load_webhook_tls(const config::webhook_settings& w);

// Waits for SIGINT/SIGTERM: the first stops intake and lets in-flight
// requests finish (up to 5 s), the second (or the deadline) stops at once.
// Downloads in flight keep their .part files and resume at the next start.
// `on_stop` runs first (STOPPING=1 to systemd).
boost::asio::awaitable<void> shutdown_on_signal(boost::asio::io_context& ctx,
                                                std::vector<listener::http_server*> servers,
                                                jobs::service& service,
                                                std::function<void()> on_stop);

} // namespace stemd::server
