#include "integration/stack.hpp"

#include "client/connection.hpp"
#include "client/url.hpp"
#include "simulator/stem_audio.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <fstream>

namespace stemd::test {

namespace json = boost::json;
namespace net = boost::asio;
namespace http = boost::beast::http;
using namespace std::chrono_literals;

json::value parse_or_null(const std::string& text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    return ec ? json::value(nullptr) : v;
}

std::vector<std::string> files_under(const std::filesystem::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec))
        return out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec))
        if (e.is_regular_file())
            out.push_back(std::filesystem::relative(e.path(), dir).string());
    std::sort(out.begin(), out.end());
    return out;
}

void check_files(const stack& s, const json::value& job, std::uint64_t stem_bytes) {
    auto str = [](const json::value& v, std::string_view key) {
        return std::string(v.at(key).as_string());
    };
    const std::string task = str(job, "task_id");
    const auto& files = job.at("files").as_array();
    REQUIRE(!files.empty());
    for (const auto& f : files) {
        CHECK(str(f, "status") == "done");
        const std::string path = str(f, "path");
        std::string name = str(f, "name");
        std::string stem = name.substr(name.rfind('/') + 1);
        CAPTURE(path);
        std::string bytes = read_file(path);
        CHECK(bytes.size() == stem_bytes);
        CHECK(bytes == stemd::simulator::stem_audio(task, stem, stem_bytes));
        CHECK(bytes.substr(0, 4) == "RIFF");
        CHECK(bytes.substr(8, 4) == "WAVE");
        CHECK(f.at("bytes").to_number<std::uint64_t>() == stem_bytes);
        CHECK(str(f, "sha256") == sha256_hex(bytes));
        CHECK(std::filesystem::path(path).parent_path().string().find(task) != std::string::npos);
    }
    for (const auto& name : files_under(s.output_dir()))
        CHECK_MESSAGE(!name.ends_with(".part"), name);
}

std::uint64_t injected(const boost::json::value& stats, std::string_view fault) {
    const auto* count = stats.at("faults").as_object().if_contains(fault);
    return count == nullptr ? 0 : count->to_number<std::uint64_t>();
}

bool wait_for_stat(stack& s, std::string_view name, std::uint64_t n,
                   std::chrono::milliseconds timeout) {
    return wait_until(
        [&] {
            auto stats = s.simulator_get("/sim/stats").second;
            const auto* v = stats.is_object() ? stats.as_object().if_contains(name) : nullptr;
            return v != nullptr && v->to_number<std::uint64_t>() >= n;
        },
        timeout);
}

std::string webhook_path_of(const stack& s, const std::string& task) {
    const std::string marker = "/webhook/";
    std::size_t at = std::string::npos;
    std::string logs;
    wait_until(
        [&] {
            logs = s.logs();
            const auto line = logs.find("task " + task + " accepted");
            at = line == std::string::npos ? line : logs.find(marker, line);
            return at != std::string::npos;
        },
        std::chrono::seconds(10));
    REQUIRE_MESSAGE(at != std::string::npos, logs);
    return logs.substr(at, logs.find_first_of(")\n", at) - at);
}

const boost::json::value& only_file(const boost::json::value& job) {
    const auto& files = job.at("files").as_array();
    REQUIRE(files.size() == 1);
    return files[0];
}

stack::stack(const std::string& label, stack_options options)
    : options_(std::move(options)), ws_(label), ca_(make_test_ca(ws_ / "tls")) {
    if (options_.untrusted_files)
        untrusted_ = make_untrusted_cert(ws_ / "tls");
    write_config();
}

stack::~stack() {
    if (serve_ && serve_->running()) {
        serve_->signal(SIGTERM);
        serve_->wait(10s);
    }
}

void stack::write_config() {
    auto q = [](const std::filesystem::path& p) {
        return "\"" + p.string() + "\"";
    };
    std::string webhook_extra;
    if (options_.webhook_tls) {
        std::filesystem::create_directories(webhook_cert().parent_path());
        std::filesystem::copy_file(ca_.server_cert, webhook_cert());
        std::filesystem::copy_file(ca_.server_key, webhook_key());
        webhook_extra +=
            "tls_cert = " + q(webhook_cert()) + "\ntls_key = " + q(webhook_key()) + "\n";
    }
    if (!options_.signing_secret.empty())
        webhook_extra += "signing_secret = \"" + options_.signing_secret + "\"\n";
    std::string text =
        "[musicgpt]\n"
        "base_url = \"https://127.0.0.1:" +
        std::to_string(sim_port()) +
        "/api/public\"\n"
        "api_version = \"" +
        options_.api_version +
        "\"\n"
        "api_key = \"integration-test-key\"\n"
        "ca_file = " +
        q(sim_trust()) +
        "\n"
        "[webhook]\n"
        "listen = \"127.0.0.1:" +
        std::to_string(webhook_port()) +
        "\"\n"
        "public_url = \"" +
        (options_.poll_only     ? std::string()
         : !public_url_.empty() ? public_url_
                                : std::string(options_.webhook_tls ? "https" : "http") +
                                      "://127.0.0.1:" + std::to_string(webhook_port())) +
        "\"\n"
        "secret = \"" +
        secret_ + "\"\n" + webhook_extra +
        "[api]\n"
        "listen = \"127.0.0.1:" +
        std::to_string(api_port()) + "\"\n" +
        (options_.database_uri.empty() ? std::string() : "token_file = " + q(token_file()) + "\n") +
        options_.api_config +
        "[storage]\n"
        "database = " +
        (options_.database_uri.empty() ? q(ws_ / "var" / "stemd.db")
                                       : "\"" + options_.database_uri + "\"") +
        "\n" +
        (options_.output.empty() ? "output_dir = " + q(output_dir())
                                 : "output = \"" + options_.output + "\"") +
        "\n"
        "[limits]\n" +
        options_.limits_config +
        "[download]\n"
        "concurrency = 4\n"
        "max_attempts = " +
        std::to_string(options_.max_attempts) +
        "\n"
        "ca_file = " +
        q(download_trust()) +
        "\n"
        "allow_private_addresses = " +
        std::string(options_.allow_private_addresses ? "true" : "false") + "\n" +
        options_.extra_config;
    if (!options_.notify_config.empty())
        text += "[notify]\n" + options_.notify_config;
    if (!options_.s3_config.empty())
        text += "[s3]\n" + options_.s3_config;
    ws_.write("stemd.toml", text);
    std::filesystem::permissions(config_file(), std::filesystem::perms(0600));
}

void stack::start_simulator() {
    std::vector<std::string> extra;
    if (options_.no_webhooks)
        extra.push_back("--no-webhooks");
    const std::pair<const char*, int> numbers[] = {
        {"--link-ttl-ms", options_.link_ttl_ms},
        {"--status-limit", options_.status_limit},
        {"--status-window-ms", options_.status_window_ms},
        {"--clock-ahead-s", options_.clock_ahead_s}};
    for (const auto& [flag, value] : numbers)
        if (value > 0) {
            extra.push_back(flag);
            extra.push_back(std::to_string(value));
        }
    auto with_extra = [&](std::vector<std::string> args) {
        args.insert(args.end(), extra.begin(), extra.end());
        return args;
    };
    sim_ = std::make_unique<child_process>(
        with_extra(std::vector<std::string>{
            STEMD_BINARY, "simulate", "--listen", "127.0.0.1:" + std::to_string(sim_port()),
            "--tls-cert", sim_identity().server_cert.string(), "--tls-key",
            sim_identity().server_key.string(), "--api-key", "integration-test-key", "--webhook-ca",
            ca_.ca_cert.string(), "--webhook-delay-ms", std::to_string(options_.webhook_delay_ms),
            "--stem-bytes", std::to_string(options_.stem_bytes), "--rate",
            std::to_string(options_.rate)}),
        ws_ / "simulate.log");
    bool up =
        wait_until([&] { return simulator_get("/healthz").first == 200 || !sim_->running(); }, 20s);
    REQUIRE_MESSAGE(up, logs());
    REQUIRE_MESSAGE(sim_->running(), logs());
}

void stack::start_serve(serve_launch launch) {
    ++serve_starts_;
    serve_ = std::make_unique<child_process>(
        std::vector<std::string>{STEMD_BINARY, "serve", "--config", config_file().string()},
        ws_ / ("serve-" + std::to_string(serve_starts_) + ".log"), std::move(launch.env),
        std::filesystem::path(), std::move(launch.extras));
    if (!launch.wait_until_up)
        return;
    bool up = wait_until(
        [&] {
            return http_request(api_port(), "GET", "/healthz").status == 200 || !serve_->running();
        },
        20s);
    REQUIRE_MESSAGE(up, logs());
    REQUIRE_MESSAGE(serve_->running(), logs());
}

void stack::point_webhooks_at(const stack& other) {
    set_public_url("http://127.0.0.1:" + std::to_string(other.webhook_port()));
}

void stack::set_public_url(const std::string& url) {
    public_url_ = url;
    std::filesystem::remove(config_file());
    write_config();
}

void stack::kill_serve() {
    serve_->signal(SIGKILL);
    serve_->wait(10s);
}

std::string stack::api_token() const {
    std::string token = read_file(token_file());
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r'))
        token.pop_back();
    return token;
}

http_answer stack::api_request(const std::string& method, const std::string& target,
                               const std::string& body, const std::string& content_type,
                               const std::string& extra_headers) const {
    return http_request(api_port(), method, target, body, content_type,
                        "Authorization: Bearer " + api_token() + "\r\n" + extra_headers);
}

std::pair<int, json::value> stack::submit(const std::string& body) {
    auto a = api_request("POST", "/v1/jobs", body);
    return {a.status, parse_or_null(a.body)};
}

json::value stack::job(const std::string& key) {
    auto a = api_request("GET", "/v1/jobs/" + key);
    REQUIRE_MESSAGE(a.status == 200, "GET /v1/jobs/" << key << " -> " << a.status << " " << a.body);
    return parse_or_null(a.body);
}

std::filesystem::path stack::wait_for_partial(std::uint64_t min_bytes,
                                              std::chrono::milliseconds timeout) {
    std::filesystem::path part;
    bool partial = wait_until(
        [&] {
            for (const auto& name : files_under(output_dir()))
                if (name.ends_with(".part")) {
                    part = output_dir() / name;
                    std::error_code ec;
                    return std::filesystem::file_size(part, ec) > min_bytes;
                }
            return false;
        },
        timeout);
    REQUIRE_MESSAGE(partial, logs());
    return part;
}

json::value stack::wait_for(const std::string& key, const std::string& status,
                            std::chrono::milliseconds timeout) {
    json::value last;
    bool reached = wait_until(
        [&] {
            last = job(key);
            auto s = last.at("status").as_string();
            return s == status || (status != "failed" && s == "failed");
        },
        timeout);
    REQUIRE_MESSAGE(reached, "job " << key << " did not reach " << status << ": "
                                    << json::serialize(last) << "\n"
                                    << logs());
    REQUIRE_MESSAGE(last.at("status").as_string() == status, json::serialize(last) << "\n"
                                                                                   << logs());
    return last;
}

std::pair<int, json::value> stack::simulator_get(const std::string& target) {
    net::io_context ctx;
    auto tls = client::make_tls_client_context(sim_trust().string());
    auto url = client::parse_http_url("https://127.0.0.1:" + std::to_string(sim_port()) + target);
    http::request<http::string_body> req{http::verb::get, url->target, 11};
    std::pair<int, json::value> out{0, nullptr};
    client::connect_options opts;
    opts.connect_timeout = 2s;
    opts.io_timeout = 5s;
    net::co_spawn(ctx, client::exchange(*url, std::move(req), opts, *tls, 1 << 20),
                  [&](std::exception_ptr e, auto res) {
                      if (!e && res)
                          out = {static_cast<int>(res->result_int()), parse_or_null(res->body())};
                  });
    ctx.run();
    return out;
}

std::string stack::logs() const {
    std::string out;
    for (const auto& name : files_under(ws_.path()))
        if (name.ends_with(".log"))
            out += "----- " + name + "\n" + read_file(ws_ / name);
    return out;
}

std::string stack::serve_logs() const {
    std::string out;
    for (int i = 1; i <= serve_starts_; ++i)
        out += read_file(ws_ / ("serve-" + std::to_string(i) + ".log"));
    return out;
}

run_result stack::cli(std::vector<std::string> args) {
    args.insert(args.begin(), STEMD_BINARY);
    args.push_back("--api");
    args.push_back(api_url());
    args.push_back("--token-file");
    args.push_back(token_file().string());
    return run(args, 90s);
}

} // namespace stemd::test
