#include "server/doctor.hpp"

#include "client/connection.hpp"
#include "common/log.hpp"
#include "jobs/overdue.hpp"
#include "jobs/service.hpp"
#include "server/doctor_checks.hpp"
#include "server/reply.hpp"

namespace stemd::server {

namespace net = boost::asio;
namespace http = boost::beast::http;

namespace {

// Long enough for a proxy in between, short enough for a command a person waits for.
constexpr std::chrono::milliseconds probe_timeout{5000};

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
    std::vector<storage::job_record> open;
    for (auto status : {job_status::submitting, job_status::submitted, job_status::downloading}) {
        auto some = service.list(status, 1000);
        if (!some) {
            log_error("", "doctor cannot list jobs: " + some.error().message);
            return {std::string(check_stuck_jobs), check_level::problem,
                    "cannot read the jobs from the database: " + some.error().message};
        }
        open.insert(open.end(), some->begin(), some->end());
    }
    const millis now = now_millis();
    std::vector<stuck_job> stuck;
    for (const auto& j : jobs::overdue_jobs(open, service.options(), now))
        stuck.push_back({j.id, std::string(storage::to_string(j.status)),
                         j.status == job_status::downloading ? j.updated_at : j.created_at});
    return stuck_jobs_check(stuck, now);
}

} // namespace

net::awaitable<listener::response> handle_doctor(doctor_context& ctx) {
    std::vector<check> checks;
    probe_facts probe;
    if (!ctx.public_url.empty())
        probe = co_await send_probe(ctx);
    checks.push_back(public_url_check(ctx.public_url, ctx.listen, probe));
    checks.push_back(stuck_jobs(ctx.service));
    log_info("", std::string("doctor: public url ") + std::string(to_string(checks[0].level)) +
                     ", stuck jobs " + std::string(to_string(checks[1].level)));
    co_return json_response(200, checks_to_json(checks));
}

} // namespace stemd::server
