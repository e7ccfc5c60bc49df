#include "server/doctor.hpp"

#include "client/connection.hpp"
#include "common/log.hpp"
#include "jobs/overdue.hpp"
#include "jobs/service.hpp"
#include "server/doctor_checks.hpp"
#include "server/doctor_probes.hpp"
#include "server/reply.hpp"

namespace stemd::server {

namespace net = boost::asio;
namespace http = boost::beast::http;

namespace {

// Long enough for a proxy in between, short enough for a command a person waits for.
constexpr std::chrono::milliseconds probe_timeout{5000};
// Probes sent, at most, when other instances share the webhook address.
constexpr int shared_store_probes = 8;

// GET <public_url>/webhook/probe/<id>. The certificate is not judged here
// (the CLI's "certificate" check does that): what proves the URL reaches
// this daemon is the id arriving, not what TLS says.
net::awaitable<probe_facts> send_probe(doctor_context& ctx) {
    probe_facts facts;
    const std::string id = ctx.probes.issue(now_millis());
    if (id.empty()) {
        facts.unreachable = "too many probes are in flight; run doctor again in a minute";
        co_return facts;
    }
    auto url = client::parse_http_url(ctx.public_url + probe_path(id));
    if (!url) {
        ctx.probes.settle(id);
        facts.unreachable = "it is not an absolute http(s) URL";
        co_return facts;
    }
    client::connect_options options;
    options.verify_peer = false;
    options.connect_timeout = probe_timeout;
    options.io_timeout = probe_timeout;
    auto tls = client::make_tls_client_context("");
    http::request<http::string_body> req{http::verb::get, url->target, 11};
    req.set(http::field::user_agent, "stemd/" STEMD_VERSION " doctor");
    auto answer = co_await client::exchange(*url, std::move(req), options, *tls, 64 * 1024);
    if (answer)
        facts.http_status = answer->result_int();
    else
        facts.unreachable = answer.error().message();
    facts.arrived = ctx.probes.settle(id);
    co_return facts;
}

check stuck_jobs(jobs::service& service) {
    using storage::job_status;
    // The longest waiting are the likeliest overdue: with more open jobs
    // than this, the newest are the ones left unread.
    auto open = service.longest_waiting_open_jobs(1000);
    if (!open) {
        log_error("", "doctor cannot list jobs: " + open.error().message);
        return {std::string(check_stuck_jobs), check_level::problem,
                "cannot read the jobs from the database: " + open.error().message};
    }
    const millis now = now_millis();
    std::vector<stuck_job> stuck;
    for (const auto& j : jobs::overdue_jobs(*open, service.options(), now))
        stuck.push_back({j.id, std::string(storage::to_string(j.status)),
                         j.status == job_status::downloading ? j.updated_at : j.created_at});
    return stuck_jobs_check(stuck, now);
}

} // namespace

// The key the daemon holds now (SIGHUP may have changed it), with the
// same bounds as the CLI's own check.
net::awaitable<std::vector<check>> key_and_clock(doctor_context& ctx) {
    if (ctx.musicgpt_tls == nullptr)
        co_return std::vector<check>{};
    auto options = ctx.service.options().musicgpt;
    options.connect.connect_timeout = options.connect.io_timeout = probe_timeout * 2;
    co_return co_await musicgpt_checks(std::move(options), *ctx.musicgpt_tls);
}

net::awaitable<listener::response> handle_doctor(doctor_context& ctx) {
    std::vector<check> checks = co_await key_and_clock(ctx);
    const auto& o = ctx.service.options();
    checks.push_back(output_dir_probe(o.output_dir, static_cast<std::int64_t>(o.download.max_bytes),
                                      "the daemon"));
    probe_facts probe;
    // Behind a load balancer over instances sharing one database, a probe
    // may reach a sibling, which rightly says 404 to an id it did not issue:
    // send fresh ones until one arrives here (round robin gets there within
    // as many tries as there are instances).
    const int tries = o.shared_poll.count() > 0 ? shared_store_probes : 1;
    for (int i = 0; i < tries && !ctx.public_url.empty(); ++i) {
        probe = co_await send_probe(ctx);
        probe.tries = i + 1;
        if (probe.arrived || !probe.unreachable.empty())
            break;
    }
    checks.push_back(public_url_check(ctx.public_url, ctx.listen, probe));
    checks.push_back(stuck_jobs(ctx.service));
    std::string summary = "doctor:";
    for (const auto& c : checks)
        summary += " " + c.name + " " + std::string(to_string(c.level)) + ",";
    summary.pop_back();
    log_info("", summary);
    co_return json_response(200, checks_to_json(checks));
}

} // namespace stemd::server
