#include "simulator/simulator.hpp"

#include "client/connection.hpp"
#include "client/tls.hpp"
#include "common/log.hpp"
#include "listener/http_server.hpp"
#include "simulator/listen_address.hpp"
#include "simulator/note.hpp"
#include "simulator/service.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <exception>
#include <memory>
#include <optional>
#include <system_error>

namespace stemd::simulator {

namespace net = boost::asio;

namespace {

struct tls_contexts {
    std::shared_ptr<net::ssl::context> server; // null: plain HTTP
    std::shared_ptr<net::ssl::context> webhook;
};

// Throws std::runtime_error naming the file that cannot be used.
tls_contexts make_tls(const simulator_options& options) {
    tls_contexts out;
    if (!options.tls_cert.empty()) {
        out.server = client::make_tls_server_context(options.tls_cert, options.tls_key);
    }
    out.webhook = client::make_tls_client_context(options.webhook_ca_file);
    return out;
}

net::awaitable<void> stop_on_signal(net::signal_set& signals, listener::http_server& server,
                                    net::io_context& ioc) {
    const int signal = co_await signals.async_wait(net::use_awaitable);
    note(log_level::info, "stopping (signal " + std::to_string(signal) + ")");
    server.stop();
    // Answers under way get a moment to finish; webhooks still waiting for
    // their delay are dropped with everything else when the loop stops.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    net::steady_timer timer(ioc);
    while (server.open_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
        timer.expires_after(std::chrono::milliseconds(50));
        co_await timer.async_wait(net::use_awaitable);
    }
    ioc.stop();
}

// Sets the links' base URL from the bound port and logs where it listens.
void announce(const listen_address& listen, const listener::http_server& server, bool tls,
              const simulator_options& options, service& sim) {
    const std::string scheme = tls ? "https://" : "http://";
    const std::string port = std::to_string(server.local_endpoint().port());
    const std::string listening = scheme + url_host(listen.host) + ":" + port;
    sim.set_public_url(options.public_url.empty() ? scheme + link_host(listen.host) + ":" + port
                                                  : options.public_url);
    note(log_level::info,
         "listening on " + listening +
             (sim.public_url() == listening ? "" : " (links use " + sim.public_url() + ")"));
}

} // namespace

int run_simulator(const simulator_options& options) {
    const auto listen = parse_listen_address(options.listen);
    if (!listen) {
        note(log_level::error, listen.error().message);
        return 1;
    }
    if (options.tls_cert.empty() != options.tls_key.empty()) {
        note(log_level::error, "HTTPS needs both a certificate and a key; give both or neither");
        return 1;
    }
    tls_contexts tls;
    try {
        tls = make_tls(options);
    } catch (const std::exception& e) {
        note(log_level::error, e.what());
        return 1;
    }

    net::io_context ioc(1);
    auto sim = std::make_shared<service>(options, tls.webhook, ioc.get_executor());
    listener::server_limits limits;
    limits.body_limit = 100 * 1024 * 1024; // uploads
    limits.request_timeout = std::chrono::seconds(120);
    std::optional<listener::http_server> server;
    try {
        server.emplace(
            ioc.get_executor(), listen->host, listen->port,
            [sim](listener::request& req, const listener::peer_info&) {
                return service::handle(sim, req);
            },
            limits, tls.server, "simulate");
    } catch (const std::system_error& e) {
        note(log_level::error, std::string("cannot listen: ") + e.what());
        return 1;
    }
    announce(*listen, *server, tls.server != nullptr, options, *sim);
    server->start();

    net::signal_set signals(ioc, SIGINT, SIGTERM);
    net::co_spawn(ioc, stop_on_signal(signals, *server, ioc),
                  [](std::exception_ptr e) { log_exception("shutdown", e); });
    ioc.run();
    return 0;
}

} // namespace stemd::simulator
