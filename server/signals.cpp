#include "server/signals.hpp"

#include "client/tls.hpp"
#include "common/log.hpp"
#include "jobs/service.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <stdexcept>

namespace stemd::server {

namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

std::size_t open_connections(const std::vector<listener::http_server*>& servers) {
    std::size_t open = 0;
    for (auto* s : servers)
        open += s->open_connections();
    return open;
}

} // namespace

std::shared_ptr<net::ssl::context> load_webhook_tls(const config::webhook_settings& w) {
    if (w.tls_cert.empty())
        return nullptr;
    try {
        return client::make_tls_server_context(w.tls_cert, w.tls_key);
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string("webhook.tls_cert/tls_key: ") + e.what());
    }
}

net::awaitable<void> shutdown_on_signal(net::io_context& ctx,
                                        std::vector<listener::http_server*> servers,
                                        jobs::service& service, std::function<void()> on_stop) {
    net::signal_set signals(ctx, SIGINT, SIGTERM);
    auto [ec, sig] = co_await signals.async_wait(use_tuple);
    if (ec)
        co_return;
    log_info("", std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
                     ": finishing requests in flight");
    on_stop();
    for (auto* s : servers)
        s->stop();
    service.stop();

    net::steady_timer timer(ctx);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (open_connections(servers) > 0 && std::chrono::steady_clock::now() < deadline) {
        timer.expires_after(20ms);
        co_await timer.async_wait(use_tuple);
    }
    ctx.stop();
}

} // namespace stemd::server
