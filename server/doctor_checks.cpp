#include "server/doctor_checks.hpp"

#include "client/url.hpp"
#include "jobs/describe.hpp"

#include <boost/json/array.hpp>

#include <cstdlib>

namespace stemd::server {

namespace json = boost::json;

namespace {

check make(std::string_view name, check_level level, std::string message) {
    return {std::string(name), level, std::move(message)};
}

std::string duration_text(millis d) {
    constexpr millis hour = 3'600'000, day = 24 * hour;
    if (d >= 2 * day)
        return std::to_string(d / day) + " days";
    if (d >= 2 * hour)
        return std::to_string(d / hour) + " h";
    if (d >= 120'000)
        return std::to_string(d / 60'000) + " min";
    return jobs::seconds_text(std::chrono::milliseconds(d));
}

} // namespace

std::string_view to_string(check_level level) noexcept {
    switch (level) {
    case check_level::ok:
        return "ok";
    case check_level::warning:
        return "warning";
    case check_level::problem:
        return "problem";
    }
    return "problem";
}

std::optional<check_level> parse_check_level(std::string_view text) noexcept {
    for (auto level : {check_level::ok, check_level::warning, check_level::problem})
        if (to_string(level) == text)
            return level;
    return std::nullopt;
}

check api_key_check(const key_answer& a, std::string_view base_url) {
    const std::string where = "MusicGPT at " + client::redact(base_url);
    if (!a.unreachable.empty())
        return make(check_api_key, check_level::problem,
                    "could not ask " + where + ": " + a.unreachable +
                        "; check musicgpt.base_url, DNS and outbound HTTPS from this machine");
    if (a.http_status == 404)
        return make(check_api_key, check_level::ok,
                    "accepted by " + where +
                        " (a look-up of a task that does not exist "
                        "answered 404 " +
                        (a.error_code.empty() ? "" : a.error_code) + ")");
    if (a.http_status == 401 || a.http_status == 403)
        return make(check_api_key, check_level::problem,
                    where + " refused the key (" + std::to_string(a.http_status) + " " +
                        a.error_code +
                        "): set musicgpt.api_key, api_key_file or "
                        "$MUSICGPT_API_KEY to the key of your MusicGPT account");
    if (a.http_status == 429 || a.http_status >= 500)
        return make(check_api_key, check_level::warning,
                    where + " answered " + std::to_string(a.http_status) + " " + a.error_code +
                        " (busy or failing), so the key could not be checked; run doctor again "
                        "later");
    return make(check_api_key, check_level::problem,
                where + " answered " + std::to_string(a.http_status) + " " + a.error_code +
                    (a.message.empty() ? "" : " (" + a.message + ")") +
                    " where 404 or 401 was expected: is musicgpt.base_url MusicGPT's API "
                    "(https://api.musicgpt.com/api/public)?");
}

check clock_check(std::optional<millis> server_date, millis local) {
    if (!server_date)
        return make(check_clock, check_level::warning,
                    "MusicGPT's answer had no readable Date header, so the clock could not be "
                    "compared; make sure NTP (systemd-timesyncd, chrony) keeps it set");
    const millis off = local - *server_date;
    const std::string by = duration_text(std::llabs(off));
    // The Date header has whole seconds: up to a second of the difference is that.
    if (std::llabs(off) <= clock_tolerance)
        return make(check_clock, check_level::ok,
                    "within " + by + " of MusicGPT's (Date header; allowed: 60 s)");
    return make(check_clock, check_level::problem,
                "this machine's clock is " + by + (off > 0 ? " ahead of" : " behind") +
                    " MusicGPT's: signed webhooks are refused outside a few minutes and links "
                    "expire early or late; start time synchronisation (timedatectl "
                    "set-ntp true)");
}

check output_dir_check(const output_dir_facts& f) {
    const std::string where = f.existing_parent.empty()
                                  ? f.dir
                                  : f.existing_parent + " (" + f.dir + " does not exist yet)";
    if (!f.write_problem.empty())
        return make(check_output_dir, check_level::problem,
                    "cannot write in " + where + ": " + f.write_problem +
                        "; create it and give it to the user stemd runs as (e.g. chown stemd " +
                        f.dir + "), or change storage.output_dir");
    if (!f.free_bytes)
        return make(check_output_dir, check_level::warning,
                    where + " is writable, but its free space could not be read");
    const auto need = static_cast<std::uint64_t>(f.max_bytes);
    const std::string free_text = std::to_string(*f.free_bytes / (1024 * 1024)) + " MiB free";
    if (*f.free_bytes < need)
        return make(check_output_dir, check_level::warning,
                    where + " is writable but has only " + free_text +
                        ", less than one file of download.max_bytes (" +
                        std::to_string(need / (1024 * 1024)) +
                        " MiB): free space or lower download.max_bytes");
    return make(check_output_dir, check_level::ok, where + " is writable, " + free_text);
}

check certificate_check(std::string_view public_url, std::string_view host,
                        const certificate_facts& f, millis now) {
    if (public_url.empty())
        return make(check_certificate, check_level::ok,
                    "no webhook.public_url, so no certificate to check");
    if (!public_url.starts_with("https://"))
        return make(check_certificate, check_level::warning,
                    "webhook.public_url is plain http: webhook deliveries would travel in clear, "
                    "and MusicGPT only delivers to https URLs; put stemd behind TLS (webhook."
                    "tls_cert/tls_key or a proxy) and give the https address");
    const std::string at = "the certificate served at " + std::string(public_url);
    if (!f.unreachable.empty())
        return make(check_certificate, check_level::problem,
                    "no TLS connection to " + std::string(public_url) + ": " + f.unreachable);
    if (!f.present)
        return make(check_certificate, check_level::problem,
                    std::string(public_url) + " presented no certificate");
    if (f.not_after <= now)
        return make(check_certificate, check_level::problem,
                    at + " expired " + duration_text(now - f.not_after) +
                        " ago: renew it (and send stemd SIGHUP to load it)");
    if (!f.trusted)
        return make(check_certificate, check_level::problem,
                    at + " is not trusted: " + f.chain_problem +
                        "; serve the full chain (fullchain.pem) from a public CA (or pass the "
                        "private CA with --ca-file)");
    if (!f.names_host)
        return make(check_certificate, check_level::problem,
                    at + " is not valid for the host name \"" + std::string(host) +
                        "\": get one whose subjectAltName holds it, or correct "
                        "webhook.public_url");
    const std::string left = duration_text(f.not_after - now);
    if (f.not_after - now < certificate_warning)
        return make(check_certificate, check_level::warning,
                    at + " is valid for " + std::string(host) + " but expires in " + left +
                        ": renew it (and send stemd SIGHUP to load it)");
    return make(check_certificate, check_level::ok,
                at + " is trusted, valid for " + std::string(host) + ", expires in " + left);
}

check public_url_check(std::string_view public_url, std::string_view listen, const probe_facts& f) {
    if (public_url.empty())
        return make(check_public_url, check_level::warning,
                    "webhook.public_url is empty: MusicGPT is given no webhook URL and results "
                    "come only through status look-ups (later, and counted against the look-up "
                    "limit); set it to the https address that reaches webhook.listen");
    const std::string url(public_url);
    const std::string fix = "; point it (DNS, port forwarding or the proxy) at this daemon's "
                            "webhook listener (webhook.listen = " +
                            std::string(listen) + ")";
    if (!f.unreachable.empty())
        return make(check_public_url, check_level::problem,
                    "this daemon could not reach " + url + ": " + f.unreachable +
                        "; MusicGPT's webhooks will not arrive" + fix);
    if (!f.arrived)
        return make(check_public_url, check_level::problem,
                    url + " reaches something else: it answered " + std::to_string(f.http_status) +
                        (f.tries > 1 ? " to each of " + std::to_string(f.tries) +
                                           " one-time probes, none of which this daemon's "
                                           "webhook listener saw"
                                     : std::string(" to a one-time probe that this daemon's "
                                                   "webhook listener never saw")) +
                        ", so MusicGPT's webhooks go to another server" + fix);
    if (f.http_status != 200)
        return make(check_public_url, check_level::problem,
                    "the probe reached this daemon, but " + url + " answered " +
                        std::to_string(f.http_status) +
                        ": something in between changes answers; check the proxy");
    return make(check_public_url, check_level::ok,
                url + " reaches this daemon's webhook listener (a one-time probe arrived)");
}

check stuck_jobs_check(const std::vector<stuck_job>& stuck, millis now) {
    if (stuck.empty())
        return make(check_stuck_jobs, check_level::ok, "no job has waited longer than its bound");
    std::string list;
    for (const auto& j : stuck)
        list += (list.empty() ? "" : ", ") + j.id + " (" + j.status + " for " +
                duration_text(now - j.since) + ")";
    return make(check_stuck_jobs, check_level::problem,
                std::to_string(stuck.size()) + (stuck.size() == 1 ? " job has" : " jobs have") +
                    " waited longer than stemd would let it: " + list +
                    "; see `stemd status ID` and the log for why, and `stemd retry ID` once "
                    "failed");
}

check not_checked(std::string_view name, std::string_view why) {
    return make(name, check_level::warning, "not checked: " + std::string(why));
}

bool healthy(const std::vector<check>& checks) {
    for (const auto& c : checks)
        if (c.level == check_level::problem)
            return false;
    return true;
}

json::object checks_to_json(const std::vector<check>& checks) {
    json::array out;
    for (const auto& c : checks)
        out.push_back(
            json::object{{"name", c.name}, {"level", to_string(c.level)}, {"message", c.message}});
    return json::object{{"ok", healthy(checks)}, {"checks", std::move(out)}};
}

std::vector<check> checks_from_json(const json::value& checks) {
    std::vector<check> out;
    const auto* list = checks.if_array();
    if (list == nullptr)
        return out;
    for (const auto& item : *list) {
        const auto* o = item.if_object();
        if (o == nullptr)
            continue;
        const auto* name = o->if_contains("name");
        const auto* level = o->if_contains("level");
        const auto* message = o->if_contains("message");
        if (!name || !name->is_string() || !level || !level->is_string() || !message ||
            !message->is_string())
            continue;
        auto parsed = parse_check_level(level->as_string());
        if (!parsed)
            continue;
        out.push_back({std::string(name->as_string()), *parsed, std::string(message->as_string())});
    }
    return out;
}

} // namespace stemd::server
