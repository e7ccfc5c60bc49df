#include "server/doctor_checks.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

using namespace stemd;
using server::check_level;

namespace {
constexpr millis day = 86'400'000;
bool has(const server::check& c, std::string_view text) {
    return c.message.find(text) != std::string::npos;
}
} // namespace

TEST_CASE("doctor checks: the API key by MusicGPT's answer to an unknown task") {
    const std::string base = "https://api.musicgpt.com/api/public";
    auto c = server::api_key_check({"", 404, "RESOURCE_NOT_FOUND", ""}, base);
    CHECK(c.level == check_level::ok);
    c = server::api_key_check({"", 401, "UNAUTHORIZED_ACCESS", "bad key"}, base);
    CHECK(c.level == check_level::problem);
    CHECK(has(c, "refused the key (401 UNAUTHORIZED_ACCESS)"));
    CHECK(server::api_key_check({"", 503, "", ""}, base).level == check_level::warning);
    CHECK(server::api_key_check({"", 200, "", ""}, base).level == check_level::problem);
    c = server::api_key_check({"connection refused", 0, "", ""}, base);
    CHECK(c.level == check_level::problem);
    CHECK(has(c, "connection refused"));
}

TEST_CASE("doctor checks: the clock within 60 s of MusicGPT's Date") {
    CHECK(server::clock_check(1'000'000, 1'060'000).level == check_level::ok);
    auto c = server::clock_check(1'000'000, 1'061'000);
    CHECK(c.level == check_level::problem);
    CHECK(has(c, "ahead of"));
    c = server::clock_check(1'000'000 + 300'000, 1'000'000);
    CHECK(has(c, "5 min behind"));
    CHECK(server::clock_check(std::nullopt, 0).level == check_level::warning);
}

TEST_CASE("doctor checks: output dir writable, with room for one file of max_bytes") {
    server::output_dir_facts f{"/srv/stems", "", "", std::uint64_t{10} << 30,
                               std::int64_t{2} << 30};
    CHECK(server::output_dir_check(f).level == check_level::ok);
    f.free_bytes = std::uint64_t{1} << 30;
    auto c = server::output_dir_check(f);
    CHECK(c.level == check_level::warning);
    CHECK(has(c, "1024 MiB free, less than one file of download.max_bytes (2048 MiB)"));
    f.write_problem = "Permission denied";
    c = server::output_dir_check(f);
    CHECK(c.level == check_level::problem);
    CHECK(has(c, "cannot write in /srv/stems: Permission denied"));
    f.existing_parent = "/srv";
    CHECK(has(server::output_dir_check(f), "/srv (/srv/stems does not exist yet)"));
}

TEST_CASE("doctor checks: the certificate: trusted, for the host, not close to its end") {
    const millis now = 100 * day;
    server::certificate_facts f{"", true, true, "", true, now + 60 * day};
    const std::string url = "https://stemd.example.org";
    CHECK(server::certificate_check(url, "stemd.example.org", f, now).level == check_level::ok);
    f.not_after = now + 13 * day;
    auto c = server::certificate_check(url, "stemd.example.org", f, now);
    CHECK(c.level == check_level::warning);
    CHECK(has(c, "expires in 13 days"));
    f.not_after = now - day;
    CHECK(has(server::certificate_check(url, "h", f, now), "expired"));
    f.not_after = now + 60 * day;
    f.names_host = false;
    CHECK(server::certificate_check(url, "h", f, now).level == check_level::problem);
    f.names_host = true;
    f.trusted = false;
    f.chain_problem = "unable to get local issuer certificate";
    CHECK(has(server::certificate_check(url, "h", f, now), "unable to get local issuer"));
    CHECK(server::certificate_check("http://x", "x", {}, now).level == check_level::warning);
    CHECK(server::certificate_check("", "", {}, now).level == check_level::ok);
}

TEST_CASE("doctor checks: the public URL passes only when this daemon saw its probe") {
    const std::string url = "https://stemd.example.org";
    CHECK(server::public_url_check(url, "0.0.0.0:8080", {"", 200, true}).level == check_level::ok);
    auto c = server::public_url_check(url, "0.0.0.0:8080", {"", 404, false});
    CHECK(c.level == check_level::problem);
    CHECK(has(c, "reaches something else"));
    CHECK(has(c, "webhook.listen = 0.0.0.0:8080"));
    // A 200 from a server that did not see the probe is still another server.
    CHECK(server::public_url_check(url, "l", {"", 200, false}).level == check_level::problem);
    CHECK(server::public_url_check(url, "l", {"timed out", 0, false}).level ==
          check_level::problem);
    CHECK(server::public_url_check("", "l", {}).level == check_level::warning);
    // Several probes (instances behind a load balancer), none of them seen.
    auto all = server::public_url_check(url, "l", {"", 404, false, 8});
    CHECK(all.level == check_level::problem);
    CHECK(has(all, "each of 8 one-time probes, none of which"));
}

TEST_CASE("doctor checks: stuck jobs listed by id with how long they waited") {
    CHECK(server::stuck_jobs_check({}, 0).level == check_level::ok);
    auto c =
        server::stuck_jobs_check({{"a1", "submitted", 0}, {"b2", "downloading", day}}, 3 * day);
    CHECK(c.level == check_level::problem);
    CHECK(has(c, "2 jobs have"));
    CHECK(has(c, "a1 (submitted for 3 days), b2 (downloading for 2 days)"));
}

TEST_CASE("doctor checks: JSON shape, healthy, and reading it back") {
    std::vector<server::check> checks{{"config", check_level::ok, "fine"},
                                      {"clock", check_level::warning, "hm"}};
    CHECK(server::healthy(checks));
    CHECK(boost::json::serialize(server::checks_to_json(checks)) ==
          R"({"ok":true,"checks":[{"name":"config","level":"ok","message":"fine"},)"
          R"({"name":"clock","level":"warning","message":"hm"}]})");
    checks.push_back({"x", check_level::problem, "bad"});
    CHECK_FALSE(server::healthy(checks));
    const auto back = server::checks_from_json(boost::json::parse(
        R"([{"name":"a","level":"problem","message":"m"},{"name":"b","level":"odd","message":""},3])"));
    REQUIRE(back.size() == 1);
    CHECK(back[0].name == "a");
    CHECK(back[0].level == check_level::problem);
}
