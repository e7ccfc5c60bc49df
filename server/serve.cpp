#include "server/serve.hpp"

#include "client/tls.hpp"
#include "server/api_handler.hpp"
#include "server/job_service.hpp"
#include "common/log.hpp"
#include "server/webhook_handler.hpp"
#include "storage/sqlite_store.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <systemd/sd-daemon.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>
#include <stdexcept>

namespace stemd::server {

namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// Two daemons writing one database and one output folder would fight over
// the same .part files; an advisory lock beside the database keeps the
// second one out. The descriptor stays open for the life of the process.
int lock_database(const std::filesystem::path& database) {
    std::error_code ec;
    if (database.has_parent_path())
        std::filesystem::create_directories(database.parent_path(), ec);
    auto lock_path = database.string() + ".lock";
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        throw std::runtime_error("cannot open lock file " + lock_path + ": " +
                                 std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0)
        throw std::runtime_error("another stemd serve is already using " + database.string() +
                                 " (" + lock_path + " is locked); stop it first or use "
                                 "another storage.database");
    return fd;
}

service_options make_service_options(const config::settings& s) {
    service_options o;
    o.public_url = s.webhook.public_url;
    o.output_dir = s.storage.output_dir;
    o.concurrency = s.download.concurrency;
    o.max_attempts = s.download.max_attempts;
    o.download.connect.allow_http = s.download.allow_http;
    o.download.connect.allow_private_addresses = s.download.allow_private_addresses;
    o.download.max_bytes = static_cast<std::uint64_t>(s.download.max_bytes);
    o.download.connect.io_timeout = std::chrono::seconds(s.download.idle_timeout);
    o.musicgpt.base_url = s.musicgpt.base_url;
    o.musicgpt.api_version = s.musicgpt.api_version;
    o.musicgpt.api_key = s.musicgpt.api_key;
    o.overdue_factor = s.reconcile.overdue_factor;
    o.overdue_floor = std::chrono::seconds(s.reconcile.overdue_floor);
    o.status_per_minute = s.reconcile.status_per_minute;
    return o;
}

listener::server_limits make_limits(const config::limits_settings& l) {
    listener::server_limits out;
    out.header_limit = static_cast<std::size_t>(l.header_bytes);
    out.body_limit = static_cast<std::size_t>(l.body_bytes);
    out.request_timeout = std::chrono::seconds(l.request_timeout);
    out.idle_timeout = std::chrono::seconds(l.idle_timeout);
    out.max_connections = static_cast<std::size_t>(l.max_connections);
    return out;
}

// webhook.tls_cert/tls_key as a server context; nullptr when TLS is off.
// Throws naming the file that cannot be used (a start-up failure).
std::shared_ptr<net::ssl::context> load_webhook_tls(const config::webhook_settings& w) {
    if (w.tls_cert.empty())
        return nullptr;
    try {
        return client::make_tls_server_context(w.tls_cert, w.tls_key);
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string("webhook.tls_cert/tls_key: ") + e.what());
    }
}

// SIGHUP re-reads the webhook listener's certificate and key (renewed by
// certbot or the like) for connections accepted from then on. A pair that
// cannot be used is reported and the one in use stays, so a half-written
// renewal never takes the listener down.
net::awaitable<void> reload_on_sighup(net::signal_set& hangup, listener::http_server& webhook_server,
                                      const config::webhook_settings& w) {
    for (;;) {
        auto [ec, sig] = co_await hangup.async_wait(use_tuple);
        if (ec)
            co_return;
        if (w.tls_cert.empty()) {
            log_info("", "received SIGHUP: webhook TLS is off, nothing to reload");
            continue;
        }
        try {
            webhook_server.set_tls(client::make_tls_server_context(w.tls_cert, w.tls_key));
            log_info("", "received SIGHUP: reloaded the webhook TLS certificate " + w.tls_cert +
                             " for new connections");
        } catch (const std::exception& e) {
            log_error("", std::string("received SIGHUP: still using the previous webhook TLS "
                                      "certificate, the new one cannot be used: ") +
                              e.what());
        }
    }
}

// Waits for SIGINT/SIGTERM: the first stops intake and lets in-flight
// requests finish (up to 5 s), the second (or the deadline) stops at once.
// Downloads in flight keep their .part files and resume at the next start.
net::awaitable<void> shutdown_on_signal(net::io_context& ctx, std::vector<listener::http_server*> servers,
                                        job_service& service) {
    net::signal_set signals(ctx, SIGINT, SIGTERM);
    auto [ec, sig] = co_await signals.async_wait(use_tuple);
    if (ec)
        co_return;
    log_info("", std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
                     ": finishing requests in flight");
    sd_notify(0, "STOPPING=1");
    for (auto* s : servers)
        s->stop();
    service.stop();

    net::steady_timer timer(ctx);
    auto deadline = std::chrono::steady_clock::now() + 5s;
    for (;;) {
        std::size_t open = 0;
        for (auto* s : servers)
            open += s->open_connections();
        if (open == 0 || std::chrono::steady_clock::now() >= deadline)
            break;
        timer.expires_after(20ms);
        co_await timer.async_wait(use_tuple);
    }
    ctx.stop();
}

// Coroutines still suspended when run() returns (downloads cut short by a
// signal) hold references to the service and servers below. execution_context
// ::shutdown() destroys them; it must run while those objects are alive,
// which ~io_context (after theirs) would be too late for.
class serve_context : public net::io_context {
public:
    using net::io_context::io_context;
    using net::execution_context::shutdown;
};

} // namespace

int run_serve(const config::settings& settings) {
    // A file hitting RLIMIT_FSIZE must fail that write with EFBIG, not kill the daemon.
    ::signal(SIGXFSZ, SIG_IGN);
    const int lock_fd = lock_database(settings.storage.database);

    auto store = storage::sqlite_store::open(settings.storage.database);
    if (!store)
        throw std::runtime_error(store.error().message);
    // Claims outlive a process that was killed; they would only expire
    // after their lease. Releasing them all at once is safe here and only
    // here: the lock above makes this the one process using the database,
    // so every claim in it belongs to a process that is gone.
    if (auto released = store->release_all_claims(); !released)
        throw std::runtime_error(released.error().message);
    else if (*released > 0)
        log_info("", "released " + std::to_string(*released) +
                         " claims left by an earlier stemd; their work resumes now");

    for (const auto& w : settings.warnings)
        log_warning("", w);
    if (settings.musicgpt.api_key.empty())
        log_warning("", "no MusicGPT API key (musicgpt.api_key, MUSICGPT_API_KEY or "
                        "musicgpt.api_key_file): submissions will be refused");
    if (settings.webhook.public_url.empty())
        log_warning("", "webhook.public_url is empty: jobs are submitted without a webhook_url "
                        "and complete through MusicGPT's status endpoint (or webhook.secret "
                        "deliveries)");

    auto webhook_tls = load_webhook_tls(settings.webhook);
    std::optional<signature_verifier> signing;
    if (!settings.webhook.signing_secret.empty())
        signing.emplace(settings.webhook.signing_secret);

    serve_context ctx(1);
    auto api_tls = client::make_tls_client_context(settings.musicgpt.ca_file);
    auto download_tls = client::make_tls_client_context(settings.download.ca_file);
    job_service service(ctx.get_executor(), *store, make_service_options(settings), *api_tls,
                        *download_tls);

    webhook_context hook{service, settings.webhook.secret, std::move(signing)};
    listener::http_server webhook_server(
        ctx.get_executor(), settings.webhook.listen.host, settings.webhook.listen.port,
        [&hook](listener::request& req, const listener::peer_info&) -> net::awaitable<listener::reply> {
            co_return listener::reply{handle_webhook(hook, req), {}};
        },
        make_limits(settings.limits), webhook_tls, "webhook listener");
    listener::http_server api_server(
        ctx.get_executor(), settings.api.listen.host, settings.api.listen.port,
        [&service](listener::request& req, const listener::peer_info&) -> net::awaitable<listener::reply> {
            // Not `reply{co_await ...}`: GCC 12 destroys the awaited value
            // twice when co_await sits inside a braced initialiser.
            listener::response answer = co_await handle_api(service, req);
            co_return listener::reply{std::move(answer), {}};
        },
        make_limits(settings.limits), nullptr, "API listener");

    webhook_server.start();
    api_server.start();
    service.start();
    net::co_spawn(ctx, shutdown_on_signal(ctx, {&webhook_server, &api_server}, service),
                  net::detached);
    // Registered here, not inside the coroutine, so a SIGHUP that arrives
    // before the loop runs is queued instead of ending the process.
    net::signal_set hangup(ctx, SIGHUP);
    net::co_spawn(ctx, reload_on_sighup(hangup, webhook_server, settings.webhook), net::detached);

    log_info("", "stemd " STEMD_VERSION " serving: webhooks on " +
                     std::string(webhook_tls ? "https://" : "http://") +
                     settings.webhook.listen.to_string() +
                     (hook.signing ? " (signed deliveries only)" : "") + ", API on " +
                     settings.api.listen.to_string() + ", config " + settings.source +
                     ", database " + settings.storage.database.string() + ", files in " +
                     settings.storage.output_dir.string());
    sd_notify(0, "READY=1");
    ctx.run();
    ctx.shutdown();
    log_info("", "stopped");
    ::close(lock_fd);
    return 0;
}

} // namespace stemd::server
