#include "server/serve.hpp"

#include "client/tls.hpp"
#include "common/log.hpp"
#include "jobs/service.hpp"
#include "server/api_routes.hpp"
#include "server/api_token.hpp"
#include "server/doctor.hpp"
#include "server/serve_settings.hpp"
#include "server/signals.hpp"
#include "server/store_open.hpp"
#include "server/webhook_handler.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <systemd/sd-daemon.h>

#include <csignal>
#include <optional>

namespace stemd::server {

namespace net = boost::asio;

namespace {

// Coroutines still suspended when run() returns (downloads cut short by a
// signal) hold references to the service and servers below. execution_context
// ::shutdown() destroys them; it must run while those objects are alive,
// which ~io_context (after theirs) would be too late for.
class serve_context : public net::io_context {
public:
    using net::execution_context::shutdown;
    using net::io_context::io_context;
};

std::optional<signature_verifier> make_signing(const config::webhook_settings& w) {
    std::optional<signature_verifier> signing;
    if (!w.signing_secret.empty())
        signing.emplace(w.signing_secret);
    return signing;
}

// The two listeners of the daemon, bound (not yet accepting).
struct listeners {
    listener::http_server webhook;
    listener::http_server api;

    listeners(net::any_io_executor ex, const config::settings& s, webhook_context& hook,
              jobs::service& service, doctor_context& doctor, const api_access& access,
              std::shared_ptr<net::ssl::context> webhook_tls, const listener::server_limits& limits,
              const std::filesystem::path& uploads)
        : webhook(
              ex, s.webhook.listen.host, s.webhook.listen.port,
              [&hook](listener::request& req,
                      const listener::peer_info&) -> net::awaitable<listener::reply> {
                  co_return listener::reply{handle_webhook(hook, req), {}};
              },
              limits, std::move(webhook_tls), "webhook listener"),
          api(
              ex, s.api.listen.host, s.api.listen.port,
              // Access is checked by the listener (make_api_limits' screen),
              // from the header, before any body is read.
              [&service, options = api_options{s.api.file_roots, &doctor}](
                  listener::request& req,
                  const listener::peer_info& peer) -> net::awaitable<listener::reply> {
                  // Not `reply{co_await ...}`: GCC 12 destroys the awaited
                  // value twice when co_await sits inside a braced initialiser.
                  listener::response answer =
                      co_await handle_api(service, req, options, peer.spooled_body);
                  co_return listener::reply{std::move(answer), {}};
              },
              make_api_limits(limits, s, uploads, access), nullptr, "API listener") {}
};

void log_serving(const config::settings& s, bool tls, bool signed_only) {
    log_info("", "stemd " STEMD_VERSION " serving: webhooks on " +
                     std::string(tls ? "https://" : "http://") + s.webhook.listen.to_string() +
                     (signed_only ? " (signed deliveries only)" : "") + ", API on " +
                     s.api.listen.to_string() + " (token in " + config::api_token_file(s).string() +
                     "), config " + s.source + ", database " + s.storage.database.string() +
                     ", files in " + s.storage.output_dir.string());
}

} // namespace

int run_serve(const config::settings& settings) {
    // A file hitting RLIMIT_FSIZE must fail that write with EFBIG, not kill the daemon.
    ::signal(SIGXFSZ, SIG_IGN);
    auto db = open_locked_store(settings.storage.database);
    warn_about(settings);
    // After the lock: a second daemon must not race this one making the file.
    const auto token_file = config::api_token_file(settings);
    const api_access access(load_or_create_api_token(token_file), settings.api.allowed_hosts,
                            token_file);
    auto webhook_tls = load_webhook_tls(settings.webhook);
    auto signing = make_signing(settings.webhook);

    serve_context ctx(1);
    auto api_tls = client::make_tls_client_context(settings.musicgpt.ca_file);
    auto download_tls = client::make_tls_client_context(settings.download.ca_file);
    jobs::service service(ctx.get_executor(), db.store, make_service_options(settings), *api_tls,
                          *download_tls);
    probe_book probes;
    webhook_context hook{service, settings.webhook.secret, std::move(signing), &probes};
    doctor_context doctor{service, probes, settings.webhook.public_url,
                          settings.webhook.listen.to_string()};
    listeners servers(ctx.get_executor(), settings, hook, service, doctor, access, webhook_tls,
                      fit_to_file_limit(make_limits(settings.limits)), prepare_uploads(settings));

    servers.webhook.start();
    servers.api.start();
    service.start();
    net::co_spawn(ctx, shutdown_on_signal(ctx, {&servers.webhook, &servers.api}, service),
                  net::detached);
    // Registered here, not inside the coroutine, so a SIGHUP that arrives
    // before the loop runs is queued instead of ending the process.
    net::signal_set hangup(ctx, SIGHUP);
    net::co_spawn(ctx, reload_on_sighup(hangup, servers.webhook, settings.webhook), net::detached);

    log_serving(settings, webhook_tls != nullptr, hook.signing.has_value());
    sd_notify(0, "READY=1");
    ctx.run();
    ctx.shutdown();
    log_info("", "stopped");
    return 0;
}

} // namespace stemd::server
