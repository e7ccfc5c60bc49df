// `stemd doctor`: checks the configuration, MusicGPT, the clock, the
// output folder and the certificate from here, and asks the running daemon
// (POST /v1/doctor) for what only it can see: whether webhook.public_url
// reaches it, and which jobs are stuck.

#include "cli/api_client.hpp"
#include "cli/command.hpp"
#include "cli/doctor_view.hpp"
#include "cli/error.hpp"
#include "client/connection.hpp"
#include "client/musicgpt_client.hpp"
#include "common/crypto.hpp"
#include "config/settings.hpp"
#include "server/doctor_checks.hpp"
#include "server/serve_settings.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cerrno>
#include <cstring>
#include <exception>
#include <iostream>

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

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
    if (s.warnings.empty())
        return {std::string(server::check_config), check_level::ok, s.source + " is valid"};
    std::string text = s.source + " is valid, but: ";
    for (std::size_t i = 0; i < s.warnings.size(); ++i)
        text += (i ? "; " : "") + s.warnings[i];
    return {std::string(server::check_config), check_level::warning, text};
}

// The API key (a byId look-up of a task that cannot exist) and the clock
// (the Date of that answer).
std::vector<check> musicgpt_checks(const config::settings& s) {
    if (s.musicgpt.api_key.empty())
        return {{std::string(server::check_api_key), check_level::problem,
                 "no MusicGPT API key: set musicgpt.api_key, musicgpt.api_key_file or "
                 "$MUSICGPT_API_KEY"},
                server::not_checked(server::check_clock, "it needs an answer from MusicGPT")};
    server::key_answer key;
    std::optional<millis> date;
    millis local = 0;
    try {
        auto options = server::make_service_options(s).musicgpt;
        options.connect.connect_timeout = options.connect.io_timeout = network_timeout;
        auto tls = client::make_tls_client_context(s.musicgpt.ca_file);
        client::musicgpt_client api(options, *tls);
        const std::string task = "stemd-doctor-" + random_token_hex(8);
        auto answer =
            run_on_loop<result<client::key_probe_answer>>([&] { return api.probe_key(task); });
        local = now_millis();
        if (!answer) {
            key.unreachable = answer.error().message;
        } else {
            key = {"", answer->http_status, answer->error_code, answer->message};
            date = parse_http_date(answer->date);
        }
    } catch (const std::exception& e) {
        key.unreachable = e.what();
    }
    check clock = key.unreachable.empty()
                      ? server::clock_check(date, local)
                      : server::not_checked(server::check_clock, "MusicGPT did not answer");
    return {server::api_key_check(key, s.musicgpt.base_url), std::move(clock)};
}

// Makes and removes a file in `dir`: "" or why not.
std::string probe_write(const std::filesystem::path& dir) {
    const auto file = dir / (".stemd-doctor-" + random_token_hex(8));
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return std::strerror(errno);
    const bool written = ::write(fd, "x", 1) == 1;
    const int saved = errno;
    ::close(fd);
    ::unlink(file.c_str());
    return written ? "" : std::strerror(saved);
}

check output_dir_check(const config::settings& s) {
    server::output_dir_facts f;
    f.dir = s.storage.output_dir.string();
    f.max_bytes = s.download.max_bytes;
    std::filesystem::path dir = std::filesystem::absolute(s.storage.output_dir);
    std::error_code ec;
    while (!std::filesystem::exists(dir, ec) && dir.has_relative_path())
        dir = dir.parent_path();
    if (dir != std::filesystem::absolute(s.storage.output_dir))
        f.existing_parent = dir.string();
    if (!std::filesystem::is_directory(dir, ec))
        f.write_problem = "not a folder";
    else
        f.write_problem = probe_write(dir);
    struct statvfs fs {};
    if (f.write_problem.empty() && ::statvfs(dir.c_str(), &fs) == 0)
        f.free_bytes = std::uint64_t{fs.f_bavail} * fs.f_frsize;
    return server::output_dir_check(f);
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

// What the daemon says (POST /v1/doctor), after a "daemon" check of its own.
std::vector<check> daemon_checks(const variables_map& vm) {
    const auto unchecked = [](std::string message) {
        return std::vector<check>{
            {std::string(server::check_daemon), check_level::problem, std::move(message)},
            server::not_checked(server::check_public_url, "it needs the running daemon"),
            server::not_checked(server::check_stuck_jobs, "it needs the running daemon")};
    };
    auto api = open_api(api_address_of(vm));
    if (!api)
        return unchecked(api.error().message);
    auto a = api->call(method::post, "/v1/doctor");
    if (!a)
        return unchecked(a.error().message);
    if (a->status != 200)
        return unchecked(api->refusal(*a, "run the daemon's checks").message);
    auto body = api->object_of(*a);
    if (!body || !body->contains("checks"))
        return unchecked("the stemd API answered POST /v1/doctor with something else than "
                         "its checks; is another program listening there?");
    std::vector<check> out{
        {std::string(server::check_daemon), check_level::ok, "`stemd serve` answers on its API"}};
    for (auto& c : server::checks_from_json(body->at("checks")))
        out.push_back(std::move(c));
    return out;
}

std::vector<check> all_checks(const variables_map& vm) {
    auto settings = config::load(config_path(vm));
    if (!settings)
        return {
            {std::string(server::check_config), check_level::problem, settings.error().message}};
    std::vector<check> checks{config_check(*settings)};
    for (auto& c : musicgpt_checks(*settings))
        checks.push_back(std::move(c));
    checks.push_back(output_dir_check(*settings));
    checks.push_back(certificate_check(*settings, optional_string(vm, "ca-file").value_or("")));
    for (auto& c : daemon_checks(vm))
        checks.push_back(std::move(c));
    return checks;
}

result<int> run(const variables_map& vm) {
    const auto checks = all_checks(vm);
    if (json_wanted(vm))
        std::cout << json::serialize(server::checks_to_json(checks)) << '\n';
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
        "is read as `stemd serve` reads it (--config, else $STEMD_CONFIG, ...). MusicGPT is\n"
        "asked about a task that does not exist (404 means the key works); its Date header\n"
        "shows whether this clock is within 60 s. The running daemon, asked through its\n"
        "API, sends a one-time probe to webhook.public_url and says whether its own webhook\n"
        "listener saw it arrive, and lists jobs that have waited longer than their bound.\n"
        "Exit code 0 when there is no problem (warnings allowed), 1 when there is one,\n"
        "2 for a usage error.\n",
        describe,
        run,
    };
    return c;
}

} // namespace stemd::cli
