#include "server/serve.hpp"

#include "client/tls.hpp"
#include "common/log.hpp"
#include "jobs/service.hpp"
#include "server/activation.hpp"
#include "server/api_routes.hpp"
#include "server/api_token.hpp"
#include "server/doctor.hpp"
#include "server/notify.hpp"
#include "server/reload.hpp"
#include "server/serve_settings.hpp"
#include "server/session_book.hpp"
#include "server/signals.hpp"
#include "server/store_open.hpp"
#include "server/webhook_handler.hpp"
#include "storage/pg_listener.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

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

listener::handler webhook_handler(webhook_context& hook) {
    return [&hook](listener::request& req,
                   const listener::peer_info&) -> net::awaitable<listener::reply> {
        co_return listener::reply{handle_webhook(hook, req), {}};
    };
}

// Access is checked by the listener (make_api_limits' screen), from the
// header, before any body is read.
listener::handler api_handler(jobs::service& service, const config::settings& s,
                              doctor_context& doctor, const api_access& access) {
    return [&service, options = api_options{s.api.file_roots, &doctor, &access, access.sessions()}](
               listener::request& req,
               const listener::peer_info& peer) -> net::awaitable<listener::reply> {
        co_return co_await handle_api(service, req, options, peer.spooled_body);
    };
}

// The socket systemd passed when there is one, else a fresh one bound to
// the configured address.
listener::http_server open_listener(net::any_io_executor ex, int passed,
                                    const config::endpoint& listen, listener::handler h,
                                    listener::server_limits limits,
                                    std::shared_ptr<net::ssl::context> tls, std::string name) {
    if (passed >= 0)
        return listener::http_server(ex, passed, std::move(h), std::move(limits), std::move(tls),
                                     std::move(name));
    return listener::http_server(ex, listen.host, listen.port, std::move(h), std::move(limits),
                                 std::move(tls), std::move(name));
}

std::string endpoint_text(const net::ip::tcp::endpoint& ep) {
    const auto a = ep.address();
    return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" +
           std::to_string(ep.port());
}

// The two listeners of the daemon, bound (not yet accepting).
struct listeners {
    listener::http_server webhook;
    listener::http_server api;
    // The addresses of the sockets systemd passed, "" for one bound here.
    std::string webhook_socket;
    std::string api_socket;

    listeners(net::any_io_executor ex, const config::settings& s, const passed_sockets& passed,
              webhook_context& hook, jobs::service& service, doctor_context& doctor,
              const api_access& access, std::shared_ptr<net::ssl::context> webhook_tls,
              const listener::server_limits& limits, const std::filesystem::path& uploads)
        : webhook(open_listener(ex, passed.webhook, s.webhook.listen, webhook_handler(hook), limits,
                                std::move(webhook_tls), "webhook listener")),
          api(open_listener(ex, passed.api, s.api.listen, api_handler(service, s, doctor, access),
                            make_api_limits(limits, s, uploads, access), nullptr, "API listener")) {
        if (passed.webhook >= 0) {
            webhook_socket = endpoint_text(webhook.local_endpoint());
            log_passed_socket("webhook.listen", s.webhook.listen, webhook_socket, s.source);
        }
        if (passed.api >= 0) {
            api_socket = endpoint_text(api.local_endpoint());
            log_passed_socket("api.listen", s.api.listen, api_socket, s.source);
        }
    }
};

// Names the sockets in use: a passed one's address, not the configured one.
void log_serving(const config::settings& s, const listeners& l, bool tls, bool signed_only) {
    const auto on = [](const std::string& passed, const config::endpoint& listen) {
        return passed.empty() ? listen.to_string() : passed + " (passed by systemd)";
    };
    log_info("", "stemd " STEMD_VERSION " serving: webhooks on " +
                     std::string(tls ? "https://" : "http://") +
                     on(l.webhook_socket, s.webhook.listen) +
                     (signed_only ? " (signed deliveries only)" : "") + ", API on " +
                     on(l.api_socket, s.api.listen) + " (token in " +
                     config::api_token_file(s).string() + "), config " + s.source + ", database " +
                     (s.storage.database_uri.empty() ? s.storage.database.string()
                                                     : s.storage.database_uri) +
                     ", files in " + s.storage.output_dir.string());
}

// A shared store's hint that another process made work runnable: only a
// hint, the background loops poll the store anyway (shared_poll).
void listen_for_hints(net::io_context& ctx, const opened_store& db, jobs::service& service) {
    if (!db.shared || !db.shared->notify)
        return;
    net::co_spawn(ctx, storage::pg::listen_for_work(*db.shared, [&service] { service.wake_all(); }),
                  [](std::exception_ptr e) { log_exception("LISTEN hint", e); });
}

} // namespace

int run_serve(const config::settings& settings) {
    // A file hitting RLIMIT_FSIZE must fail that write with EFBIG, not kill the daemon.
    ::signal(SIGXFSZ, SIG_IGN);
    // A SIGHUP before the reload handler is registered below (the lock,
    // the migration, a VACUUM, binding) must not end the process; there is
    // nothing to reload yet. The signal_set replaces this disposition.
    ::signal(SIGHUP, SIG_IGN);
    auto db = open_store(settings.storage);
    warn_about(settings);
    // After the lock: a second daemon must not race this one making the file.
    const auto token_file = config::api_token_file(settings);
    // The page's sessions live in memory only: a restart asks it to sign in again.
    session_book sessions;
    api_access access(load_or_create_api_token(token_file), settings.api.allowed_hosts, token_file,
                      &sessions);
    auto webhook_tls = load_webhook_tls(settings.webhook);
    auto signing = make_signing(settings.webhook);
    config::settings in_use = settings; // what SIGHUP compares with and updates

    serve_context ctx(1);
    auto api_tls = client::make_tls_client_context(settings.musicgpt.ca_file);
    auto download_tls = client::make_tls_client_context(settings.download.ca_file);
    jobs::service service(ctx.get_executor(), *db.store, make_service_options(settings), *api_tls,
                          *download_tls);
    probe_book probes;
    webhook_context hook{service, settings.webhook.secret, std::move(signing), &probes};
    doctor_context doctor{service, probes, settings.webhook.public_url,
                          settings.webhook.listen.to_string(), api_tls.get()};
    listeners servers(ctx.get_executor(), settings,
                      take_passed_sockets(settings.webhook.listen, settings.api.listen), hook,
                      service, doctor, access, webhook_tls,
                      fit_to_file_limit(make_limits(settings.limits)), prepare_uploads(settings));
    systemd_notifier notifier(ctx, status_line(service));

    servers.webhook.start();
    servers.api.start();
    service.start();
    // Registered here, not inside the coroutine, so a SIGHUP that arrives
    // before the loop runs is queued instead of ending the process.
    net::signal_set hangup(ctx, SIGHUP);
    // Once stopping, a SIGHUP is no reload: READY=1 must not follow
    // STOPPING=1. The set stays registered, so the signal is only queued.
    net::co_spawn(ctx,
                  shutdown_on_signal(ctx, {&servers.webhook, &servers.api}, service,
                                     [&notifier, &hangup] {
                                         notifier.stopping();
                                         hangup.cancel();
                                     }),
                  net::detached);
    net::co_spawn(ctx,
                  reload_on_sighup(hangup, {in_use, servers.webhook, hook, service, notifier,
                                            servers.webhook_socket, servers.api_socket, &access}),
                  net::detached);
    arm_test_fault(ctx);
    listen_for_hints(ctx, db, service);

    log_serving(settings, servers, webhook_tls != nullptr, hook.signing.has_value());
    // Posted after service.start()'s coroutines, each of which co_spawn
    // starts with a post: by the time this runs, the downloader has claimed
    // the files an earlier process left, the poller has taken the look-ups
    // due, and jobs left submitting are being settled. Both listeners are
    // accepting by then too.
    net::post(ctx, [&notifier] { notifier.ready(); });
    ctx.run();
    ctx.shutdown();
    // Only now: nothing holds or writes a claim any more (the coroutines
    // that did are gone), and the store is still open (db outlives the
    // service). Another process takes the work at once, not after the lease.
    service.release_claims();
    log_info("", "stopped");
    return 0;
}

} // namespace stemd::server
