#include "server/cli.hpp"

#include "client/connection.hpp"
#include "client/error.hpp"
#include "client/url.hpp"
#include "config/settings.hpp"
#include "server/serve.hpp"
#include "simulator/simulator.hpp"
#include "storage/states.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/program_options.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace stemd::server {

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
namespace json = boost::json;
namespace net = boost::asio;
namespace po = boost::program_options;
using namespace std::chrono_literals;
using boost::system::error_code;

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

// Why a command stopped early: its exit code and a sentence for stderr. Not
// an aggregate, so that result<int, failure> can tell an int from a failure.
struct failure {
    failure() = default;
    failure(int code, std::string text) : exit_code(code), message(std::move(text)) {}

    int exit_code = exit_failure;
    std::string message;
};

template <typename T> using outcome = boost::system::result<T, failure>;

failure usage_error(std::string message) {
    return {exit_usage, std::move(message)};
}
failure runtime_failure(std::string message) {
    return {exit_failure, std::move(message)};
}

// ---------------------------------------------------------------------------
// Text helpers.

// Text that came from the API (which may repeat MusicGPT's words) must not
// be able to move the cursor or change colours on the user's terminal.
std::string printable(std::string_view text, std::size_t limit = 500) {
    std::string out;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (out.size() >= limit) {
            // Not half a character: drop the start of the one being cut.
            if ((byte & 0xC0) == 0x80) {
                while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80)
                    out.pop_back();
                if (!out.empty())
                    out.pop_back();
            }
            out += "...";
            break;
        }
        out += (byte < 0x20 || byte == 0x7F) ? ' ' : c;
    }
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    return out;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty())
            out += separator;
        out += item;
    }
    return out;
}

std::string_view trimmed(std::string_view text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos)
        return {};
    const auto last = text.find_last_not_of(" \t");
    return text.substr(first, last - first + 1);
}

// "a,b" "c" -> {a, b, c}: a list option may be repeated or comma separated.
std::vector<std::string> split_list(const std::vector<std::string>& values) {
    std::vector<std::string> out;
    for (const auto& value : values) {
        std::string_view rest = value;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            const auto item = trimmed(rest.substr(0, comma));
            if (!item.empty())
                out.emplace_back(item);
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        }
    }
    return out;
}

std::string percent_encoded(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        const bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
                                (byte >= '0' && byte <= '9') || c == '-' || c == '.' || c == '_' ||
                                c == '~';
        if (unreserved) {
            out += c;
        } else {
            out += '%';
            out += hex[byte >> 4];
            out += hex[byte & 0xF];
        }
    }
    return out;
}

std::string human_bytes(std::uint64_t bytes) {
    static constexpr const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024)
        return std::to_string(bytes);
    double scaled = static_cast<double>(bytes) / 1024;
    std::size_t unit = 0;
    while (scaled >= 1024 && unit + 1 < std::size(units)) {
        scaled /= 1024;
        ++unit;
    }
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%llu (%.1f %s)", static_cast<unsigned long long>(bytes),
                  scaled, units[unit]);
    return buffer;
}

// Boost.JSON writes doubles in exponent form ("1.47E2"); people read "147".
std::string number_text(double value) {
    char buffer[64];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    return ec == std::errc{} ? std::string(buffer, end) : std::string("?");
}

// A field as display text: strings as they are, numbers as JSON writes them,
// null or missing as "".
std::string text_field(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v || v->is_null())
        return {};
    if (v->is_string())
        return printable(v->get_string());
    if (v->is_bool())
        return v->get_bool() ? "yes" : "no";
    if (v->is_double())
        return number_text(v->get_double());
    return printable(json::serialize(*v));
}

std::optional<std::uint64_t> unsigned_field(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v)
        return std::nullopt;
    if (v->is_uint64())
        return v->get_uint64();
    if (v->is_int64() && v->get_int64() >= 0)
        return static_cast<std::uint64_t>(v->get_int64());
    return std::nullopt;
}

// Columns padded to their widest cell; the last column is not padded.
using table_row = std::vector<std::string>;

void print_table(std::ostream& out, const std::vector<table_row>& rows, std::string_view indent) {
    std::vector<std::size_t> widths;
    for (const auto& row : rows) {
        widths.resize(std::max(widths.size(), row.size()));
        for (std::size_t i = 0; i < row.size(); ++i)
            widths[i] = std::max(widths[i], row[i].size());
    }
    for (const auto& row : rows) {
        std::string line(indent);
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size())
                line.append(widths[i] - row[i].size() + 2, ' ');
        }
        out << line << '\n';
    }
}

// ---------------------------------------------------------------------------
// Argument helpers.

// Whole numbers are parsed here rather than by program_options, which would
// read "-1" as a huge unsigned number.
outcome<std::uint64_t> parse_count(const std::string& text, std::string_view option) {
    std::uint64_t value = 0;
    const char* end = text.data() + text.size();
    const auto [stop, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || stop != end)
        return usage_error("--" + std::string(option) +
                           " takes a whole number of 0 or more, not \"" + printable(text, 40) +
                           "\"");
    return value;
}

outcome<std::chrono::milliseconds> parse_seconds(const std::string& text, std::string_view option) {
    double value = 0;
    const char* end = text.data() + text.size();
    const auto [stop, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || stop != end || !std::isfinite(value) || value < 0 ||
        value > 1e9)
        return usage_error("--" + std::string(option) +
                           " takes a number of seconds such as 90 or 0.5, not \"" +
                           printable(text, 40) + "\"");
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(value * 1000)));
}

std::optional<std::string> optional_string(const po::variables_map& vm, const char* name) {
    if (!vm.count(name))
        return std::nullopt;
    return vm[name].as<std::string>();
}

std::optional<fs::path> config_path(const po::variables_map& vm) {
    if (auto path = optional_string(vm, "config"))
        return fs::path(*path);
    return std::nullopt;
}

// The list given to a list option, or nullopt when the option is absent.
outcome<std::optional<std::vector<std::string>>>
list_option(const po::variables_map& vm, const char* name, std::string_view example) {
    if (!vm.count(name))
        return std::optional<std::vector<std::string>>{};
    auto items = split_list(vm[name].as<std::vector<std::string>>());
    if (items.empty())
        return usage_error("--" + std::string(name) + " needs at least one name, e.g. --" + name +
                           " " + std::string(example));
    return std::optional<std::vector<std::string>>(std::move(items));
}

outcome<std::optional<std::chrono::milliseconds>> timeout_option(const po::variables_map& vm) {
    const auto text = optional_string(vm, "timeout");
    if (!text)
        return std::optional<std::chrono::milliseconds>{};
    auto value = parse_seconds(*text, "timeout");
    if (!value)
        return value.error();
    return std::optional<std::chrono::milliseconds>(*value);
}

outcome<std::string> job_key(const po::variables_map& vm, std::string_view command) {
    auto key = optional_string(vm, "key");
    if (!key || key->empty())
        return usage_error("which job? give its id or task id, e.g. stemd " + std::string(command) +
                           " j_0123");
    return std::move(*key);
}

// ---------------------------------------------------------------------------
// The local API: JSON over HTTP on loopback.

struct answer {
    unsigned status = 0;
    std::string body;
};

// Runs one coroutine to its end on a private io_context: each client command
// makes a handful of requests one after another, so nothing else needs to run.
template <typename T> T run_to_completion(net::awaitable<T> task) {
    net::io_context ioc(1);
    std::optional<T> out;
    std::exception_ptr thrown;
    net::co_spawn(ioc, std::move(task), [&](std::exception_ptr e, T value) {
        thrown = e;
        if (!e)
            out.emplace(std::move(value));
    });
    ioc.run();
    if (thrown)
        std::rethrow_exception(thrown);
    return std::move(*out);
}

class api_client {
public:
    api_client(client::http_url base, std::shared_ptr<net::ssl::context> tls)
        : base_(std::move(base)), tls_(std::move(tls)) {
        prefix_ = base_.target;
        while (!prefix_.empty() && prefix_.back() == '/')
            prefix_.pop_back();
    }

    // One request to `target` (below the base URL) and its whole answer.
    outcome<answer> call(http::verb method, const std::string& target,
                         std::string body = {}) const {
        http::request<http::string_body> req{method, prefix_ + target, 11};
        req.set(http::field::user_agent, "stemd/" STEMD_VERSION);
        req.set(http::field::accept, "application/json");
        if (!body.empty()) {
            req.set(http::field::content_type, "application/json");
            req.body() = std::move(body);
        }
        client::connect_options options;
        options.allow_http = true;
        options.allow_private_addresses = true;
        options.connect_timeout = 5s;
        // A submission answers only after MusicGPT has taken the audio, which
        // for an uploaded file can take minutes.
        options.io_timeout = method == http::verb::post ? std::chrono::milliseconds(15min) : 60s;
        auto response = run_to_completion(
            client::exchange(base_, std::move(req), options, *tls_, answer_limit));
        if (!response)
            return transport_failure(response.error());
        return answer{response->result_int(), std::move(response->body())};
    }

    outcome<json::object> object_of(const answer& a) const {
        error_code ec;
        auto value = json::parse(a.body, ec);
        if (ec || !value.is_object())
            return runtime_failure("the stemd API at " + where() + " answered HTTP " +
                                   std::to_string(a.status) +
                                   " with something other than a JSON object; is another "
                                   "program listening there?");
        return std::move(value.as_object());
    }

    // A non-2xx answer as a message: the API's own "error" text, and for a
    // 502 what MusicGPT said.
    failure refusal(const answer& a, std::string_view action) const {
        std::string message = "the stemd API refused to " + std::string(action) + " (HTTP " +
                              std::to_string(a.status) + ")";
        error_code ec;
        const auto value = json::parse(a.body, ec);
        const auto described =
            !ec && value.is_object() ? describe_error(value.as_object(), a.status) : std::string();
        if (!described.empty())
            message += described;
        else
            message += (a.body.empty() ? "" : ": " + printable(a.body, 200)) +
                       "; is --api pointing at a stemd API?";
        if (a.status >= 500 && a.status != 502)
            message += "; the log of `stemd serve` has the details";
        return runtime_failure(std::move(message));
    }

private:
    static constexpr std::size_t answer_limit = 64 * 1024 * 1024;

    std::string where() const {
        std::string text = base_.redacted();
        if (text.ends_with('/'))
            text.pop_back();
        return text;
    }

    static std::string describe_error(const json::object& body, unsigned status) {
        std::string out;
        if (const auto* error = body.if_contains("error"); error && error->is_string())
            out += ": " + printable(error->get_string());
        if (status != 502)
            return out;
        // 0 means MusicGPT was not reached at all; the message says why.
        if (const auto upstream = unsigned_field(body, "upstream_status");
            upstream && *upstream > 0)
            out += " with HTTP " + std::to_string(*upstream);
        if (const auto* said = body.if_contains("message");
            said && said->is_string() && !said->get_string().empty())
            out += ": " + printable(said->get_string());
        if (const auto* job = body.if_contains("job"); job && job->is_object()) {
            if (const auto id = text_field(job->get_object(), "id"); !id.empty())
                out += " (recorded as failed job " + id + ")";
        }
        return out;
    }

    failure transport_failure(const error_code& ec) const {
        if (ec == client::error::body_too_large || ec == client::error::bad_response ||
            ec == client::error::length_mismatch)
            return runtime_failure("the stemd API at " + where() + " sent an unusable answer: " +
                                   ec.message() + "; is another program listening there?");
        return runtime_failure("cannot reach the stemd API at " + where() + ": " + ec.message() +
                               "; is `stemd serve` running, and is --api (or api.listen in the "
                               "configuration) right?");
    }

    client::http_url base_;
    std::string prefix_; // path of the base URL, without the trailing '/'
    std::shared_ptr<net::ssl::context> tls_;
};

outcome<std::string> read_text_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return runtime_failure("cannot read the configuration " + path.string() + ": " +
                               std::error_code(errno, std::generic_category()).message() +
                               "; give the API's address with --api URL, or another file with "
                               "--config FILE");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Client commands need only api.listen. Unlike `serve` they do not resolve the
// MusicGPT key: a user may read the configuration without being allowed to
// read the key file.
outcome<config::endpoint> configured_api_listen(const po::variables_map& vm) {
    auto path = config_path(vm);
    if (!path)
        path = config::default_path();
    if (!path)
        return config::settings{}.api.listen;
    auto text = read_text_file(*path);
    if (!text)
        return text.error();
    auto parsed = config::parse(*text, path->string());
    if (!parsed)
        return runtime_failure(parsed.error().message);
    return parsed->api.listen;
}

// A wildcard listen address accepts connections on loopback too.
std::string loopback_for(const std::string& host) {
    if (host == "0.0.0.0")
        return "127.0.0.1";
    if (host == "::")
        return "::1";
    return host;
}

outcome<client::http_url> api_base_url(const po::variables_map& vm) {
    if (auto text = optional_string(vm, "api")) {
        auto url = client::parse_http_url(*text);
        if (!url || url->target.find('?') != std::string::npos)
            return usage_error("--api takes the base URL of the stemd API, such as "
                               "http://127.0.0.1:8081");
        return std::move(*url);
    }
    auto listen = configured_api_listen(vm);
    if (!listen)
        return listen.error();
    client::http_url url;
    url.https = false;
    url.host = loopback_for(listen->host);
    url.port = listen->port;
    url.target = "/";
    return url;
}

outcome<api_client> open_api(const po::variables_map& vm) {
    auto base = api_base_url(vm);
    if (!base)
        return base.error();
    try {
        return api_client(std::move(*base), client::make_tls_client_context(""));
    } catch (const std::exception& e) {
        return runtime_failure(std::string("cannot set up TLS for the API connection: ") +
                               e.what());
    }
}

// ---------------------------------------------------------------------------
// Printing jobs.

std::string list_field(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v || !v->is_array())
        return {};
    std::vector<std::string> items;
    for (const auto& item : v->get_array())
        items.push_back(item.is_string() ? printable(item.get_string()) : json::serialize(item));
    return join(items, ", ");
}

const json::array* files_of(const json::object& job) {
    const auto* files = job.if_contains("files");
    return files && files->is_array() ? &files->get_array() : nullptr;
}

std::string files_done(const json::object& job) {
    const auto* files = files_of(job);
    if (!files)
        return "0/0";
    const auto done = std::count_if(files->begin(), files->end(), [](const json::value& f) {
        return f.is_object() && text_field(f.get_object(), "status") == "done";
    });
    return std::to_string(done) + "/" + std::to_string(files->size());
}

bool is_final(std::string_view status) {
    const auto parsed = storage::parse_job_status(status);
    return parsed && storage::is_final(*parsed);
}

std::string with_unit(const std::string& value, std::string_view unit) {
    return value.empty() ? value : value + std::string(unit);
}

void print_detail(std::ostream& out, std::string_view label, const std::string& value) {
    if (value.empty())
        return;
    std::string line = "  " + std::string(label);
    line.resize(std::max<std::size_t>(line.size() + 2, 17), ' ');
    out << line << value << '\n';
}

// Query strings of a link may carry tokens; the user's terminal gets no more
// of them than a log would.
std::string source_of(const json::object& job) {
    if (auto url = text_field(job, "audio_url"); !url.empty())
        return client::redact(url);
    return text_field(job, "audio_file");
}

std::string cost_of(const json::object& job) {
    const auto cost = text_field(job, "conversion_cost");
    const auto estimate = text_field(job, "credit_estimate");
    if (cost.empty())
        return estimate.empty() ? "" : "estimated " + estimate + " credits";
    return cost + " credits" + (estimate.empty() ? "" : " (estimated " + estimate + ")");
}

table_row file_row(const json::object& file) {
    const auto bytes = unsigned_field(file, "bytes");
    const auto sha = text_field(file, "sha256");
    auto where = text_field(file, "path");
    if (where.empty())
        where = text_field(file, "name");
    if (const auto error = text_field(file, "error"); !error.empty())
        where += "  (attempt " + text_field(file, "attempts") + ": " + error + ")";
    return {text_field(file, "status"), bytes && *bytes > 0 ? human_bytes(*bytes) : "-",
            sha.empty() ? "-" : sha.substr(0, 12), where};
}

void print_files(std::ostream& out, const json::object& job) {
    const auto* files = files_of(job);
    if (!files || files->empty()) {
        out << (is_final(text_field(job, "status")) ? "files: none\n" : "files: none yet\n");
        return;
    }
    out << "files: " << files_done(job) << " done\n";
    std::vector<table_row> rows{{"STATUS", "BYTES", "SHA256", "PATH"}};
    for (const auto& file : *files) {
        if (file.is_object())
            rows.push_back(file_row(file.get_object()));
    }
    print_table(out, rows, "  ");
}

void print_job(std::ostream& out, const json::object& job) {
    const auto status = text_field(job, "status");
    out << "job " << text_field(job, "id") << "  " << status << '\n';
    print_detail(out, "task id", text_field(job, "task_id"));
    print_detail(out, "conversion id", text_field(job, "conversion_id"));
    print_detail(out, "MusicGPT says", text_field(job, "upstream_status"));
    print_detail(out, "source", source_of(job));
    print_detail(out, "stems", list_field(job, "stems"));
    print_detail(out, "preprocessing", list_field(job, "preprocessing_options"));
    if (text_field(job, "eco_mode") == "yes")
        print_detail(out, "eco mode", "yes");
    print_detail(out, "created", text_field(job, "created_at"));
    print_detail(out, "updated", text_field(job, "updated_at"));
    if (!is_final(status))
        print_detail(out, "eta", with_unit(text_field(job, "eta"), " s"));
    print_detail(out, "cost", cost_of(job));
    print_detail(out, "duration", with_unit(text_field(job, "conversion_duration"), " s"));
    print_detail(out, "error", text_field(job, "error"));
    print_files(out, job);
}

// --json prints the API's document unchanged, so scripts see every field.
void print_raw(const std::string& body) {
    std::cout << body;
    if (body.empty() || body.back() != '\n')
        std::cout << '\n';
}

void print_job_list(std::ostream& out, const json::object& answer_object) {
    const auto* jobs = answer_object.if_contains("jobs");
    if (!jobs || !jobs->is_array() || jobs->get_array().empty()) {
        out << "no jobs\n";
        return;
    }
    std::vector<table_row> rows{{"ID", "STATUS", "TASK", "CREATED", "FILES"}};
    for (const auto& job : jobs->get_array()) {
        if (!job.is_object())
            continue;
        const auto& o = job.get_object();
        const auto task = text_field(o, "task_id");
        rows.push_back({text_field(o, "id"), text_field(o, "status"), task.empty() ? "-" : task,
                        text_field(o, "created_at"), files_done(o)});
    }
    print_table(out, rows, "");
}

// ---------------------------------------------------------------------------
// Job commands.

outcome<answer> fetch_job(const api_client& api, const std::string& key) {
    auto a = api.call(http::verb::get, "/v1/jobs/" + percent_encoded(key));
    if (!a)
        return a.error();
    if (a->status == 404)
        return runtime_failure("no job " + printable(key, 100) +
                               "; `stemd list` shows the known jobs");
    if (a->status != 200)
        return api.refusal(*a, "show job " + printable(key, 100));
    return a;
}

void show_job(const answer& a, const json::object& job, bool as_json) {
    if (as_json)
        print_raw(a.body);
    else
        print_job(std::cout, job);
}

// One stderr line each time the job moves on, so a person sees it is alive.
void note_progress(const std::string& key, const json::object& job, std::string& last) {
    const auto status = text_field(job, "status");
    std::string progress = status;
    if (status == "downloading")
        progress += " (" + files_done(job) + " files done)";
    if (progress == last)
        return;
    last = progress;
    std::cerr << "stemd: job " << printable(key, 100) << " is " << progress << '\n';
}

std::string seconds_text(std::chrono::milliseconds d) {
    std::ostringstream out;
    out << static_cast<double>(d.count()) / 1000;
    return out.str();
}

outcome<int> wait_for_job(const api_client& api, const std::string& key,
                          std::optional<std::chrono::milliseconds> timeout, bool as_json) {
    constexpr auto poll_interval = 500ms;
    using clock = std::chrono::steady_clock;
    // No timeout waits until the end of (steady) time.
    const auto deadline = timeout ? clock::now() + *timeout : clock::time_point::max();
    std::string last_progress;
    for (;;) {
        auto a = fetch_job(api, key);
        if (!a)
            return a.error();
        auto job = api.object_of(*a);
        if (!job)
            return job.error();
        const auto status = text_field(*job, "status");
        if (is_final(status)) {
            show_job(*a, *job, as_json);
            if (status == "completed")
                return exit_ok;
            const auto error = text_field(*job, "error");
            return runtime_failure("job " + printable(key, 100) + " failed" +
                                   (error.empty() ? "" : ": " + error));
        }
        if (!as_json)
            note_progress(key, *job, last_progress);
        const auto now = clock::now();
        if (now >= deadline) {
            show_job(*a, *job, as_json);
            return runtime_failure("job " + printable(key, 100) + " is still " + status +
                                   " after " + seconds_text(*timeout) + " s; run `stemd wait " +
                                   printable(key, 100) + "` to keep waiting");
        }
        const auto pause = std::min<clock::duration>(
            std::chrono::duration_cast<clock::duration>(poll_interval), deadline - now);
        std::this_thread::sleep_for(pause);
    }
}

// ---------------------------------------------------------------------------
// The commands. Each has a describe_* (its options) and a run_*.

struct option_set {
    po::options_description visible{"options"};
    po::options_description hidden;
    po::positional_options_description positional;

    // An option that takes a value, shown as `value_name` in the help.
    void value(const char* name, const char* value_name, const char* text) {
        visible.add_options()(name, po::value<std::string>()->value_name(value_name), text);
    }
    void value(const char* name, const char* value_name, const std::string& default_value,
               const char* text) {
        visible.add_options()(
            name, po::value<std::string>()->value_name(value_name)->default_value(default_value),
            text);
    }
    // A list option: repeatable and comma separated ("a,b" "c").
    void list(const char* name, const char* value_name, const char* text) {
        visible.add_options()(
            name, po::value<std::vector<std::string>>()->value_name(value_name)->composing(), text);
    }
    void flag(const char* name, const char* text) {
        visible.add_options()(name, po::bool_switch(), text);
    }
};

void add_api_options(option_set& o) {
    o.value("api", "URL",
            "base URL of the stemd API, e.g. http://127.0.0.1:8081 (default: api.listen of the "
            "configuration)");
    o.value("config,c", "FILE", "configuration file to take api.listen from");
}

void add_json_option(option_set& o) {
    o.flag("json", "print the API's JSON instead of text");
}

void add_key_argument(option_set& o) {
    o.hidden.add_options()("key", po::value<std::string>());
    o.positional.add("key", 1);
}

void add_timeout_option(option_set& o, const char* text) {
    o.value("timeout", "SECONDS", text);
}

// serve ----------------------------------------------------------------------

void describe_serve(option_set& o) {
    o.value("config,c", "FILE", "configuration file (default: see below)");
}

outcome<int> run_serve_command(const po::variables_map& vm) {
    auto settings = config::load(config_path(vm));
    if (!settings)
        return runtime_failure(settings.error().message);
    // run_serve logs settings->warnings itself, as journald lines.
    try {
        return server::run_serve(*settings);
    } catch (const std::exception& e) {
        std::cerr << "stemd serve: cannot start: " << e.what() << '\n';
        return exit_failure;
    }
}

// simulate -------------------------------------------------------------------

void describe_simulate(option_set& o) {
    const stemd::simulator::simulator_options defaults;
    o.value("listen", "ADDR", defaults.listen, "host:port to listen on ([v6]:port for IPv6)");
    o.value("tls-cert", "FILE", "PEM certificate; with --tls-key the simulator speaks HTTPS");
    o.value("tls-key", "FILE", "PEM private key of --tls-cert");
    o.value("public-url", "URL",
            "base URL the stem links point at (default: derived from --listen)");
    o.value("api-key", "KEY", "Authorization value to require (default: any non-empty value)");
    o.value("webhook-ca", "FILE", "extra CA (PEM) trusted when posting webhooks to https URLs");
    o.value("webhook-delay-ms", "N", std::to_string(defaults.webhook_delay.count()),
            "milliseconds between a submission and its webhook");
    o.value("stem-bytes", "N", std::to_string(defaults.stem_bytes),
            "size of each generated stem in bytes");
    o.value("rate", "BYTES_PER_SEC", std::to_string(defaults.rate),
            "download speed per transfer; 0 = unlimited");
    o.flag("no-webhooks", "never deliver webhooks; results only through byId");
    o.value("link-ttl-ms", "N", std::to_string(defaults.link_ttl.count()),
            "stem links expire N ms after signing (webhook links at acceptance, byId links at "
            "each answer) and are refused with 403 after; 0 = never");
    o.value("status-limit", "N", std::to_string(defaults.status_limit),
            "byId answers at most N calls per --status-window-ms, then 429 with Retry-After; "
            "0 = unlimited");
    o.value("status-window-ms", "N", std::to_string(defaults.status_window.count()),
            "the sliding window of --status-limit");
}

outcome<stemd::simulator::simulator_options> simulator_options_from(const po::variables_map& vm) {
    stemd::simulator::simulator_options options;
    options.listen = vm["listen"].as<std::string>();
    options.tls_cert = optional_string(vm, "tls-cert").value_or("");
    options.tls_key = optional_string(vm, "tls-key").value_or("");
    if (options.tls_cert.empty() != options.tls_key.empty())
        return usage_error("HTTPS needs both --tls-cert and --tls-key; give both or neither");
    options.public_url = optional_string(vm, "public-url").value_or("");
    options.api_key = optional_string(vm, "api-key").value_or("");
    options.webhook_ca_file = optional_string(vm, "webhook-ca").value_or("");
    const auto delay = parse_count(vm["webhook-delay-ms"].as<std::string>(), "webhook-delay-ms");
    const auto stem_bytes = parse_count(vm["stem-bytes"].as<std::string>(), "stem-bytes");
    const auto rate = parse_count(vm["rate"].as<std::string>(), "rate");
    const auto ttl = parse_count(vm["link-ttl-ms"].as<std::string>(), "link-ttl-ms");
    const auto status_limit = parse_count(vm["status-limit"].as<std::string>(), "status-limit");
    const auto window = parse_count(vm["status-window-ms"].as<std::string>(), "status-window-ms");
    for (const auto* parsed : {&delay, &stem_bytes, &rate, &ttl, &status_limit, &window}) {
        if (!*parsed)
            return parsed->error();
    }
    constexpr std::uint64_t day_ms = 24ull * 3600 * 1000;
    if (*delay > day_ms)
        return usage_error("--webhook-delay-ms is at most a day (86400000)");
    if (*ttl > day_ms)
        return usage_error("--link-ttl-ms is at most a day (86400000)");
    if (*window == 0 || *window > day_ms)
        return usage_error("--status-window-ms is from 1 to 86400000");
    options.webhook_delay = std::chrono::milliseconds(*delay);
    options.stem_bytes = *stem_bytes;
    options.rate = *rate;
    options.no_webhooks = vm["no-webhooks"].as<bool>();
    options.link_ttl = std::chrono::milliseconds(*ttl);
    options.status_limit = *status_limit;
    options.status_window = std::chrono::milliseconds(*window);
    return options;
}

outcome<int> run_simulate(const po::variables_map& vm) {
    auto options = simulator_options_from(vm);
    if (!options)
        return options.error();
    try {
        return stemd::simulator::run_simulator(*options);
    } catch (const std::exception& e) {
        std::cerr << "stemd simulate: cannot start: " << e.what() << '\n';
        return exit_failure;
    }
}

// submit ---------------------------------------------------------------------

void describe_submit(option_set& o) {
    o.value("url", "URL", "audio to fetch from a URL");
    o.value("file", "PATH", "audio file on this machine");
    o.list("stems", "a,b", "stems to extract, e.g. vocals,drums (default: MusicGPT's choice)");
    o.list("preprocess", "X[,Y]", "preprocessing: Denoise, Deecho, Dereverb");
    o.flag("eco", "eco mode (MusicGPT API v2)");
    o.flag("wait", "then wait until the job has completed or failed");
    add_timeout_option(o, "with --wait: give up after this long (default: no limit)");
    add_json_option(o);
    add_api_options(o);
}

outcome<json::value> audio_source(const po::variables_map& vm) {
    const auto url = optional_string(vm, "url");
    const auto file = optional_string(vm, "file");
    if (url.has_value() == file.has_value())
        return usage_error("give either --url URL or --file PATH (exactly one)");
    if (url)
        return json::value(*url);
    std::error_code ec;
    const auto path = fs::absolute(*file, ec);
    if (ec || !fs::is_regular_file(path, ec))
        return runtime_failure("no audio file at " + (ec ? *file : path.string()) +
                               "; check the path given to --file");
    return json::value(path.string());
}

json::array string_array(const std::vector<std::string>& items) {
    json::array out;
    for (const auto& item : items)
        out.emplace_back(item);
    return out;
}

outcome<json::object> submission(const po::variables_map& vm) {
    auto source = audio_source(vm);
    if (!source)
        return source.error();
    auto stems = list_option(vm, "stems", "vocals,drums");
    if (!stems)
        return stems.error();
    auto preprocess = list_option(vm, "preprocess", "Denoise");
    if (!preprocess)
        return preprocess.error();

    json::object body;
    body[vm.count("url") ? "audio_url" : "audio_file"] = std::move(*source);
    if (*stems)
        body["stems"] = string_array(**stems);
    if (*preprocess)
        body["preprocessing_options"] = string_array(**preprocess);
    if (vm["eco"].as<bool>())
        body["eco_mode"] = true;
    return body;
}

outcome<int> run_submit(const po::variables_map& vm) {
    auto body = submission(vm);
    if (!body)
        return body.error();
    auto timeout = timeout_option(vm);
    if (!timeout)
        return timeout.error();
    const bool wait = vm["wait"].as<bool>();
    const bool as_json = vm["json"].as<bool>();
    if (*timeout && !wait)
        return usage_error("--timeout applies to --wait; add --wait or leave it out");

    auto api = open_api(vm);
    if (!api)
        return api.error();
    auto a = api->call(http::verb::post, "/v1/jobs", json::serialize(*body));
    if (!a)
        return a.error();
    if (a->status < 200 || a->status > 299)
        return api->refusal(*a, "submit the job");
    auto job = api->object_of(*a);
    if (!job)
        return job.error();
    if (!wait) {
        show_job(*a, *job, as_json);
        return exit_ok;
    }
    const auto id = text_field(*job, "id");
    if (id.empty())
        return runtime_failure("the stemd API accepted the job but gave no id; run `stemd list`");
    if (!as_json)
        std::cerr << "stemd: submitted job " << id << "; waiting for it to finish\n";
    return wait_for_job(*api, id, *timeout, as_json);
}

// status ---------------------------------------------------------------------

void describe_status(option_set& o) {
    add_key_argument(o);
    add_json_option(o);
    add_api_options(o);
}

outcome<int> run_status(const po::variables_map& vm) {
    auto key = job_key(vm, "status");
    if (!key)
        return key.error();
    auto api = open_api(vm);
    if (!api)
        return api.error();
    auto a = fetch_job(*api, *key);
    if (!a)
        return a.error();
    auto job = api->object_of(*a);
    if (!job)
        return job.error();
    show_job(*a, *job, vm["json"].as<bool>());
    return exit_ok;
}

// list -----------------------------------------------------------------------

void describe_list(option_set& o) {
    o.value("status", "S",
            "only jobs in this state: submitting, submitted, downloading, completed, failed");
    o.value("limit", "N", "at most N jobs, newest first");
    add_json_option(o);
    add_api_options(o);
}

outcome<std::string> list_target(const po::variables_map& vm) {
    std::string query;
    if (auto status = optional_string(vm, "status"))
        query += "status=" + percent_encoded(*status);
    if (auto limit_text = optional_string(vm, "limit")) {
        auto limit = parse_count(*limit_text, "limit");
        if (!limit || *limit == 0)
            return usage_error("--limit takes a whole number of 1 or more");
        query += (query.empty() ? "" : "&") + std::string("limit=") + std::to_string(*limit);
    }
    return "/v1/jobs" + (query.empty() ? "" : "?" + query);
}

outcome<int> run_list(const po::variables_map& vm) {
    auto target = list_target(vm);
    if (!target)
        return target.error();
    auto api = open_api(vm);
    if (!api)
        return api.error();
    auto a = api->call(http::verb::get, *target);
    if (!a)
        return a.error();
    if (a->status != 200)
        return api->refusal(*a, "list jobs");
    auto listing = api->object_of(*a);
    if (!listing)
        return listing.error();
    if (vm["json"].as<bool>())
        print_raw(a->body);
    else
        print_job_list(std::cout, *listing);
    return exit_ok;
}

// wait -----------------------------------------------------------------------

void describe_wait(option_set& o) {
    add_key_argument(o);
    add_timeout_option(o, "give up after this long (default: no limit)");
    add_json_option(o);
    add_api_options(o);
}

outcome<int> run_wait(const po::variables_map& vm) {
    auto key = job_key(vm, "wait");
    if (!key)
        return key.error();
    auto timeout = timeout_option(vm);
    if (!timeout)
        return timeout.error();
    auto api = open_api(vm);
    if (!api)
        return api.error();
    return wait_for_job(*api, *key, *timeout, vm["json"].as<bool>());
}

// retry ----------------------------------------------------------------------

void describe_retry(option_set& o) {
    add_key_argument(o);
    add_json_option(o);
    add_api_options(o);
}

outcome<int> run_retry(const po::variables_map& vm) {
    auto key = job_key(vm, "retry");
    if (!key)
        return key.error();
    auto api = open_api(vm);
    if (!api)
        return api.error();
    auto a = api->call(http::verb::post, "/v1/jobs/" + percent_encoded(*key) + "/retry");
    if (!a)
        return a.error();
    if (a->status == 404)
        return runtime_failure("no job " + printable(*key, 100) +
                               "; `stemd list` shows the known jobs");
    if (a->status != 200)
        return api->refusal(*a, "retry job " + printable(*key, 100));
    auto job = api->object_of(*a);
    if (!job)
        return job.error();
    show_job(*a, *job, vm["json"].as<bool>());
    return exit_ok;
}

// ---------------------------------------------------------------------------
// Dispatch.

struct command {
    std::string_view name;
    std::string_view synopsis; // what follows "stemd NAME" in a usage line
    std::string_view summary;  // one line in the overview
    std::string_view details;  // printed after the options by `stemd NAME --help`
    void (*describe)(option_set&);
    outcome<int> (*run)(const po::variables_map&);
};

const command commands[] = {
    {"serve", "[--config FILE]", "run the daemon: submit jobs, receive webhooks, download stems",
     "The configuration is --config FILE, else $STEMD_CONFIG, else ./stemd.toml, else\n"
     "/etc/stemd/stemd.toml, else built-in defaults. Runs until SIGTERM or SIGINT;\n"
     "SIGHUP re-reads webhook.tls_cert and webhook.tls_key.\n",
     describe_serve, run_serve_command},
    {"simulate", "[--listen ADDR] [--tls-cert FILE --tls-key FILE] [OPTIONS]",
     "run a local stand-in for the MusicGPT API (tests and demos)",
     "Set musicgpt.base_url to http://ADDR/api/public (and download.allow_http and\n"
     "download.allow_private_addresses, as it serves plain HTTP on loopback).\n",
     describe_simulate, run_simulate},
    {"submit",
     "(--url URL | --file PATH) [--stems a,b] [--preprocess X[,Y]] [--eco] [--wait] [--json]",
     "submit audio for stem extraction and print the new job",
     "A --file path is sent as an absolute path; `stemd serve` must be able to read it.\n"
     "With --wait the exit code is that of `stemd wait`.\n",
     describe_submit, run_submit},
    {"status", "KEY [--json]", "show one job and its files",
     "KEY is a job id, or a MusicGPT task id or conversion id.\n", describe_status, run_status},
    {"list", "[--status S] [--limit N] [--json]", "list jobs, newest first",
     "One line per job: id, status, task id, creation time, files done/total.\n", describe_list,
     run_list},
    {"wait", "KEY [--timeout SECONDS] [--json]", "wait until a job has completed or failed",
     "Polls every 500 ms and prints the final job. Exit code 0 when it completed,\n"
     "1 when it failed or the timeout passed.\n",
     describe_wait, run_wait},
    {"retry", "KEY [--json]", "give a failed job another go",
     "Failed files are downloaded again from where they stopped, with a fresh attempt\n"
     "budget (e.g. once disk space is back); a job with no files yet asks MusicGPT\n"
     "where it stands. Exit code 0 when stemd accepted the retry; `stemd wait KEY`\n"
     "then follows it. Only failed jobs can be retried.\n",
     describe_retry, run_retry},
};

const command* find_command(std::string_view name) {
    for (const auto& c : commands) {
        if (c.name == name)
            return &c;
    }
    return nullptr;
}

void print_short_usage(std::ostream& out) {
    out << "usage: stemd COMMAND [OPTIONS]   (commands:";
    for (const auto& c : commands)
        out << ' ' << c.name;
    out << ")\nRun `stemd --help` for more.\n";
}

void print_overview(std::ostream& out) {
    out << "stemd " STEMD_VERSION " - extracts stems with MusicGPT and keeps them on disk\n\n"
           "usage: stemd COMMAND [OPTIONS]\n"
           "       stemd --help | --version\n\n"
           "commands:\n";
    std::vector<table_row> rows;
    for (const auto& c : commands)
        rows.push_back({std::string(c.name), std::string(c.summary)});
    print_table(out, rows, "  ");
    out << "\nRun `stemd COMMAND --help` for the options of a command.\n\n"
           "configuration (serve; the client commands read api.listen from it):\n"
           "  --config FILE, else $STEMD_CONFIG, else ./stemd.toml, else /etc/stemd/stemd.toml,\n"
           "  else built-in defaults. The MusicGPT API key is musicgpt.api_key, else\n"
           "  $MUSICGPT_API_KEY, else the contents of musicgpt.api_key_file.\n\n"
           "client commands (submit, status, list, wait, retry) talk to a running\n"
           "  `stemd serve` at --api URL, else at http://<api.listen> (default\n"
           "  http://127.0.0.1:8081).\n\n"
           "exit codes:\n"
           "  0  success\n"
           "  1  failure: cannot start, API unreachable or refusing, job failed, timeout\n"
           "  2  usage error: unknown command or option, missing or conflicting arguments\n";
}

void print_command_help(std::ostream& out, const command& c,
                        const po::options_description& visible) {
    out << "usage: stemd " << c.name << ' ' << c.synopsis << "\n\n"
        << c.summary << ".\n\n"
        << visible << '\n'
        << c.details;
}

int report(const command& c, const failure& f) {
    if (f.exit_code != exit_usage) {
        std::cerr << "stemd: " << f.message << '\n';
        return f.exit_code;
    }
    std::cerr << "stemd " << c.name << ": " << f.message << '\n'
              << "usage: stemd " << c.name << ' ' << c.synopsis << '\n'
              << "Run `stemd " << c.name << " --help` for details.\n";
    return exit_usage;
}

outcome<po::variables_map> parse_arguments(const option_set& options,
                                           const std::vector<std::string>& args) {
    po::options_description all;
    all.add(options.visible).add(options.hidden);
    // No abbreviations: "--ur" meaning "--url" today could mean something
    // else once another option is added.
    const int style =
        po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args)
                      .options(all)
                      .positional(options.positional)
                      .style(style)
                      .run(),
                  vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return usage_error(e.what());
    }
    return vm;
}

int run_command(const command& c, const std::vector<std::string>& args) {
    option_set options;
    options.visible.add_options()("help,h", "show this help");
    c.describe(options);
    auto vm = parse_arguments(options, args);
    if (!vm)
        return report(c, vm.error());
    if (vm->count("help")) {
        print_command_help(std::cout, c, options.visible);
        return exit_ok;
    }
    auto code = c.run(*vm);
    return code ? *code : report(c, code.error());
}

} // namespace

int run_cli(int argc, char** argv) {
    std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
    if (args.empty()) {
        std::cerr << "stemd: no command given\n";
        print_short_usage(std::cerr);
        return exit_usage;
    }
    const std::string first = args.front();
    args.erase(args.begin());
    if (first == "--help" || first == "-h" || (first == "help" && args.empty())) {
        print_overview(std::cout);
        return exit_ok;
    }
    if (first == "--version") {
        std::cout << "stemd " STEMD_VERSION "\n";
        return exit_ok;
    }
    const bool help_for = first == "help";
    const std::string name = help_for ? args.front() : first;
    const command* c = find_command(name);
    if (!c) {
        std::cerr << "stemd: unknown " << (name.starts_with('-') ? "option" : "command") << " \""
                  << printable(name, 60) << "\"\n";
        print_short_usage(std::cerr);
        return exit_usage;
    }
    if (help_for)
        args = {"--help"};
    try {
        return run_command(*c, args);
    } catch (const std::exception& e) {
        std::cerr << "stemd " << c->name << ": " << e.what() << '\n';
        return exit_failure;
    }
}

} // namespace stemd::server
