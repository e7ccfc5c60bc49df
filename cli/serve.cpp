// `stemd serve`: loads the configuration and hands over to the daemon.

#include "cli/command.hpp"
#include "cli/error.hpp"
#include "config/settings.hpp"

// The daemon itself.
#include "server/serve.hpp"

namespace stemd::cli {

namespace {

void describe(option_set& o) {
    o.value("config,c", "FILE", "configuration file (default: see below)");
}

result<int> run(const boost::program_options::variables_map& vm) {
    auto settings = config::load(config_path(vm));
    if (!settings)
        return stemd::error{settings.error().code, settings.error().message};
    // run_serve logs settings->warnings itself, as journald lines.
    return run_entry_point("serve", [&] { return server::run_serve(*settings); });
}

} // namespace

const command& serve_command() {
    static const command c{
        "serve",
        "[--config FILE]",
        "run the daemon: submit jobs, receive webhooks, download stems",
        "The configuration is --config FILE, else $STEMD_CONFIG, else ./stemd.toml, else\n"
        "/etc/stemd/stemd.toml, else built-in defaults. Runs until SIGTERM or SIGINT;\n"
        "SIGHUP re-reads the file and applies webhook.tls_cert/tls_key, the API key and\n"
        "the webhook secrets (other changed keys are logged: they need a restart).\n"
        "Under systemd: Type=notify, the watchdog, and sockets passed by stemd.socket.\n",
        describe,
        run,
    };
    return c;
}

} // namespace stemd::cli
