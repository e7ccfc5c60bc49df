// `stemd doctor`: checks the configuration and the certificate from here,
// and asks the running daemon (POST /v1/doctor) for what it is the one to
// check: the API key it holds and the clock, its output folder as its
// user, whether webhook.public_url reaches it, and which jobs are stuck.
// When the daemon does not answer, the key, clock and output folder are
// checked from here instead (the key only when this user can read it).

#include "cli/api_client.hpp"
#include "cli/command.hpp"
#include "cli/doctor_view.hpp"
#include "cli/error.hpp"
#include "client/connection.hpp"
#include "common/json_text.hpp"
#include "config/settings.hpp"
#include "server/doctor_checks.hpp"
#include "server/doctor_probes.hpp"
#include "server/serve_settings.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include <exception>
#include <iostream>

namespace stemd::cli {

namespace {

namespace net = boost::asio;
namespace json = boost::json;
using boost::program_options::variables_map;
using server::check;
using server::check_level;

constexpr std::chrono::milliseconds network_timeout{10'000};

void describe(option_set& o) {
    add_client_options(o);
    o.value("ca-file", "FILE",
            "extra CA certificates (PEM) to verify the certificate served at "
            "webhook.public_url with, besides the system's (a private CA, tests)");
}

// Runs `make()` to completion on a loop of its own.
template <class T> T run_on_loop(const std::function<net::awaitable<T>()>& make) {
    net::io_context ctx;
    std::optional<T> out;
    std::exception_ptr failed;
    net::co_spawn(ctx, make(), [&](std::exception_ptr e, T value) {
        failed = e;
        if (!e)
            out = std::move(value);
    });
    ctx.run();
    if (failed)
        std::rethrow_exception(failed);
    return std::move(*out);
}

check config_check(const config::settings& s) {
    std::string text = s.source + " is valid";
    for (std::size_t i = 0; i < s.warnings.size(); ++i)
        text += (i ? "; " : ", but: ") + s.warnings[i];
    // A note, not a warning: the packaged unit hands the daemon its key
    // file as a credential no one else can read.
    if (!s.api_key_unread.empty())
        text += " (musicgpt.api_key_file " + s.musicgpt.api_key_file.string() +
                " cannot be read here; the daemon checks the key it holds)";
    return {std::string(server::check_config),
            s.warnings.empty() ? check_level::ok : check_level::warning, text};
}

// "api key" and "clock" from here, when the daemon did not answer.
std::vector<check> local_musicgpt_checks(const config::settings& s) {
    if (!s.api_key_unread.empty())
        return {server::not_checked(server::check_api_key,
                                    "the daemon, which holds the key, did not answer, and "
                                    "here: " +
                                        s.api_key_unread),
                server::not_checked(server::check_clock, "it needs an answer from MusicGPT")};
    try {
        auto options = server::make_service_options(s).musicgpt;
        options.connect.connect_timeout = options.connect.io_timeout = network_timeout;
        auto tls = client::make_tls_client_context(s.musicgpt.ca_file);
        return run_on_loop<std::vector<check>>(
            [&] { return server::musicgpt_checks(options, *tls); });
    } catch (const std::exception& e) {
        return {{std::string(server::check_api_key), check_level::problem,
                 std::string("could not ask MusicGPT: ") + e.what()},
                server::not_checked(server::check_clock, "MusicGPT did not answer")};
    }
}

server::certificate_facts served_certificate(const client::http_url& url,
                                             const std::string& ca_file) {
    server::certificate_facts f;
    try {
        auto tls = client::make_tls_client_context(ca_file);
        client::connect_options options;
        options.verify_peer = false; // judged below, with reasons
        options.connect_timeout = options.io_timeout = network_timeout;
        auto facts = run_on_loop<result<client::peer_certificate>>(
            [&]() -> net::awaitable<result<client::peer_certificate>> {
                auto conn = co_await client::connection::open(url, options, *tls);
                if (!conn)
                    co_return stemd::error{conn.error(), conn.error().message()};
                auto seen = conn->peer_certificate_facts();
                co_await conn->close();
                co_return seen;
            });
        if (!facts) {
            f.unreachable = facts.error().message;
            return f;
        }
        f = {"",
             facts->present,
             facts->chain_trusted,
             facts->chain_problem,
             facts->names_host,
             facts->not_after};
    } catch (const std::exception& e) {
        f.unreachable = e.what();
    }
    return f;
}

check certificate_check(const config::settings& s, const std::string& ca_file) {
    const std::string& public_url = s.webhook.public_url;
    auto url = client::parse_http_url(public_url);
    if (public_url.empty() || !url || !url->https)
        return server::certificate_check(public_url, "", {}, now_millis());
    return server::certificate_check(public_url, url->host, served_certificate(*url, ca_file),
                                     now_millis());
}

// What the daemon says (POST /v1/doctor), after a "daemon" check of its
// own; no checks when it did not answer.
std::vector<check> daemon_checks(const variables_map& vm) {
    const auto unanswered = [](std::string message) {
        return std::vector<check>{
            {std::string(server::check_daemon), check_level::problem, std::move(message)}};
    };
    auto api = open_api(api_address_of(vm));
    if (!api)
        return unanswered(api.error().message);
    auto a = api->call(method::post, "/v1/doctor");
    if (!a)
        return unanswered(a.error().message);
    if (a->status != 200)
        return unanswered(api->refusal(*a, "run the daemon's checks").message);
    auto body = api->object_of(*a);
    if (!body || !body->contains("checks"))
        return unanswered("the stemd API answered POST /v1/doctor with something else than "
                          "its checks; is another program listening there?");
    std::vector<check> out{
        {std::string(server::check_daemon), check_level::ok, "`stemd serve` answers on its API"}};
    for (auto& c : server::checks_from_json(body->at("checks")))
        out.push_back(std::move(c));
    return out;
}

// The daemon's check `name`, moved out of `from`.
std::optional<check> take(std::vector<check>& from, std::string_view name) {
    for (auto& c : from)
        if (c.name == name)
            return std::move(c);
    return std::nullopt;
}

// The key, the clock and the output folder are the daemon's to check (its
// key, its user); made here only when it did not make them.
std::vector<check> all_checks(const variables_map& vm) {
    auto settings = config::load(config_path(vm), config::key_file::may_be_unreadable);
    if (!settings)
        return {
            {std::string(server::check_config), check_level::problem, settings.error().message}};
    auto daemon = daemon_checks(vm);
    std::vector<check> checks{config_check(*settings)};
    auto key = take(daemon, server::check_api_key);
    auto clock = take(daemon, server::check_clock);
    if (key && clock) {
        checks.push_back(std::move(*key));
        checks.push_back(std::move(*clock));
    } else {
        for (auto& c : local_musicgpt_checks(*settings))
            checks.push_back(std::move(c));
    }
    if (auto dir = take(daemon, server::check_output_dir))
        checks.push_back(std::move(*dir));
    else
        checks.push_back(server::output_dir_probe(settings->storage.output_dir,
                                                  settings->download.max_bytes,
                                                  "this command (the daemon did not check it)"));
    if (!settings->storage.database_uri.empty())
        checks.push_back(server::database_probe(settings->storage.database_uri));
    checks.push_back(certificate_check(*settings, optional_string(vm, "ca-file").value_or("")));
    checks.push_back(std::move(daemon.front()));
    for (auto name : {server::check_public_url, server::check_stuck_jobs}) {
        auto c = take(daemon, name);
        checks.push_back(c ? std::move(*c)
                           : server::not_checked(name, "it needs the running daemon"));
    }
    return checks;
}

result<int> run(const variables_map& vm) {
    const auto checks = all_checks(vm);
    if (json_wanted(vm))
        std::cout << json_text(server::checks_to_json(checks)) << '\n';
    else
        print_checks(std::cout, checks);
    return server::healthy(checks) ? exit_ok : exit_failure;
}

} // namespace

const command& doctor_command() {
    static const command c{
        "doctor",
        "[--config FILE] [--json] [--ca-file FILE]",
        "check the setup: config, API key, clock, output folder, certificate, public URL, jobs",
        "Each check prints as ok, warning or problem, with what to do. The configuration\n"
        "is read as `stemd serve` reads it (--config, else $STEMD_CONFIG, ...); an\n"
        "api_key_file this user cannot read is only noted. The running daemon, asked through\n"
        "its API, asks MusicGPT about a task that does not exist with the key it holds (404\n"
        "means the key works; the Date header shows whether the clock is within 60 s), tries\n"
        "the output folder as its user, sends a one-time probe to webhook.public_url and says\n"
        "whether its own webhook listener saw it arrive, and lists jobs that have waited\n"
        "longer than their bound. When it does not answer, the key, clock and output folder\n"
        "are checked from here (the key only if this user can read it). A PostgreSQL\n"
        "storage.database is checked from here: whether it answers, and its schema version.\n"
        "Exit code 0 when there is no problem (warnings allowed), 1 when there is one,\n"
        "2 for a usage error.\n",
        describe,
        run,
    };
    return c;
}

} // namespace stemd::cli
