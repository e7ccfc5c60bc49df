#include "integration/fleet.hpp"

#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <csignal>
#include <map>

namespace stemd::test {

namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::string quoted(const std::filesystem::path& p) {
    return "\"" + p.string() + "\"";
}

bool is_final(const json::value& job) {
    if (!job.is_object() || !job.as_object().contains("status"))
        return false;
    const auto& status = job.at("status").as_string();
    return status == "completed" || status == "failed";
}

} // namespace

fleet::fleet(stack& s, fleet_options options) : stack_(s), options_(std::move(options)) {
    std::vector<int> hooks;
    for (int i = 0; i < options_.instances; ++i) {
        members_.push_back(std::make_unique<member>());
        hooks.push_back(members_.back()->webhook.number());
    }
    forwarder_ = std::make_unique<forwarder>(hooks);
    for (int i = 0; i < size(); ++i)
        write_config(i);
}

fleet::~fleet() {
    for (auto& m : members_)
        if (m->process && m->process->running())
            m->process->signal(SIGTERM);
    for (auto& m : members_)
        if (m->process)
            m->process->wait(10s);
}

void fleet::write_config(int i) {
    member& m = *members_[i];
    const stack& s = stack_;
    const std::string text =
        "[musicgpt]\nbase_url = \"https://127.0.0.1:" + std::to_string(s.sim_port()) +
        "/api/public\"\napi_version = \"v2\"\napi_key = \"integration-test-key\"\n"
        "ca_file = " +
        quoted(s.ca().ca_cert) +
        "\n[webhook]\nlisten = \"127.0.0.1:" + std::to_string(m.webhook.number()) +
        "\"\npublic_url = \"http://127.0.0.1:" + std::to_string(forwarder_->port()) +
        "\"\nsecret = \"" + s.secret() +
        "\"\n[api]\nlisten = \"127.0.0.1:" + std::to_string(m.api.number()) +
        "\"\ntoken_file = " + quoted(s.token_file()) + "\n[storage]\ndatabase = \"" +
        options_.database + "\"\n" +
        (options_.local_output ? "output_dir = " + quoted(s.output_dir()) + "\n" : "") +
        options_.storage_config +
        "[reconcile]\nstatus_per_minute = " + std::to_string(options_.status_per_minute) + "\n" +
        options_.reconcile_config +
        "[download]\nconcurrency = " + std::to_string(options_.concurrency) +
        "\nmax_attempts = 8\nca_file = " + quoted(s.ca().ca_cert) +
        "\nallow_private_addresses = true\n" + options_.download_config + options_.tables;
    m.config = s.ws().write("instance-" + std::to_string(i) + ".toml", text);
    std::filesystem::permissions(m.config, std::filesystem::perms(0600));
}

void fleet::start(int i) {
    member& m = *members_[i];
    ++m.starts;
    m.process = std::make_unique<child_process>(
        std::vector<std::string>{STEMD_BINARY, "serve", "--config", m.config.string()},
        stack_.ws() / ("instance-" + std::to_string(i) + "-" + std::to_string(m.starts) + ".log"),
        // A short claim lease, so a killed instance's downloads are taken
        // over in seconds rather than a minute.
        std::map<std::string, std::string>{{"STEMD_TEST_LEASE_MS", "2000"}}, stack_.ws().path());
    const bool up = wait_until(
        [&] {
            return http_request(m.api.number(), "GET", "/healthz").status == 200 ||
                   !m.process->running();
        },
        30s);
    REQUIRE_MESSAGE(up, logs());
    REQUIRE_MESSAGE(m.process->running(), logs());
}

void fleet::start_all() {
    // One after another: the first creates the schema and the shared token.
    for (int i = 0; i < size(); ++i)
        start(i);
}

void fleet::kill(int i) {
    members_[i]->process->signal(SIGKILL);
    members_[i]->process->wait(10s);
}

int fleet::stop(int i, std::chrono::milliseconds timeout) {
    members_[i]->process->signal(SIGTERM);
    return members_[i]->process->wait(timeout);
}

bool fleet::running(int i) {
    return members_[i]->process && members_[i]->process->running();
}

int fleet::any_running() {
    for (int i = 0; i < size(); ++i)
        if (running(i))
            return i;
    FAIL("no stemd instance is running\n" << logs());
    return -1;
}

http_answer fleet::api_request(int i, const std::string& method, const std::string& target,
                               const std::string& body) const {
    return http_request(api_port(i), method, target, body, "application/json",
                        "Authorization: Bearer " + stack_.api_token() + "\r\n");
}

std::string fleet::submit(int i, const std::string& body) {
    const auto a = api_request(i, "POST", "/v1/jobs", body);
    REQUIRE_MESSAGE(a.status == 201, "instance " << i << ": " << a.status << " " << a.body);
    return std::string(parse_or_null(a.body).at("id").as_string());
}

json::value fleet::job(const std::string& id) {
    const auto a = api_request(any_running(), "GET", "/v1/jobs/" + id);
    return a.status == 200 ? parse_or_null(a.body) : json::value(nullptr);
}

std::vector<json::value> fleet::wait_all_completed(const std::vector<std::string>& ids,
                                                   std::chrono::milliseconds timeout) {
    std::vector<json::value> jobs(ids.size());
    std::size_t next = 0; // jobs before it are final
    const bool done = wait_until(
        [&] {
            for (; next < ids.size(); ++next) {
                jobs[next] = job(ids[next]);
                if (!is_final(jobs[next]))
                    return false;
            }
            return true;
        },
        timeout);
    REQUIRE_MESSAGE(done, next << " of " << ids.size() << " jobs final; waiting for "
                               << json::serialize(jobs[next]) << "\n"
                               << logs());
    for (const auto& j : jobs)
        REQUIRE_MESSAGE(j.at("status").as_string() == "completed", json::serialize(j) << logs());
    return jobs;
}

std::string fleet::logs() const {
    std::string out;
    for (const auto& name : files_under(stack_.ws().path()))
        if (name.ends_with(".log")) {
            const std::string text = read_file(stack_.ws() / name);
            constexpr std::size_t tail = 12 * 1024;
            out += "----- " + name + (text.size() > tail ? " (end)\n" : "\n") +
                   text.substr(text.size() > tail ? text.size() - tail : 0);
        }
    return out;
}

} // namespace stemd::test
