// `stemd doctor` with the real binaries: a correct setup is all ok, and
// each thing it checks, broken for real, comes out as a problem or a
// warning naming it (a public URL that reaches another server, a wrong API
// key, a stuck job, an output folder no one can write, a certificate for
// another name or close to its end, a clock that is off).

#include "integration/stack.hpp"

#include <boost/json/parse.hpp>

#include <doctest/doctest.h>

#include <sqlite3.h>

#include <csignal>
#include <fstream>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

namespace json = boost::json;
using namespace stemd::test;
using namespace std::chrono_literals;

namespace {

// The config file with the first line starting with `key =` replaced.
void set_config_line(stack& s, const std::string& key, const std::string& line) {
    std::ifstream in(s.config_file());
    std::stringstream out;
    bool done = false;
    for (std::string l; std::getline(in, l);) {
        if (!done && l.starts_with(key + " =")) {
            l = line;
            done = true;
        }
        out << l << '\n';
    }
    REQUIRE_MESSAGE(done, key);
    in.close();
    std::ofstream(s.config_file()) << out.str();
}

run_result doctor(stack& s, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"doctor", "--config", s.config_file().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return s.cli(args);
}

// The text line of the named check ("" when none).
std::string line_of(const run_result& r, const std::string& name) {
    std::istringstream in(r.out);
    for (std::string l; std::getline(in, l);) {
        std::istringstream words(l);
        std::string level;
        words >> level;
        std::string rest;
        std::getline(words, rest);
        const auto start = rest.find_first_not_of(' ');
        if (start != std::string::npos && rest.compare(start, name.size() + 1, name + " ") == 0)
            return l;
    }
    return {};
}

std::string level_of(const run_result& r, const std::string& name) {
    const std::string l = line_of(r, name);
    return l.substr(0, l.find(' '));
}

// A certificate from the stack's CA in place of the webhook listener's.
void replace_webhook_cert(stack& s, const std::string& name, const std::string& sans,
                          long seconds) {
    const auto cert = issue_server_cert(s.ca(), name, sans, seconds);
    std::filesystem::copy_file(cert.server_cert, s.webhook_cert(),
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(cert.server_key, s.webhook_key(),
                               std::filesystem::copy_options::overwrite_existing);
}

constexpr long ninety_days = 90L * 86400;

// GET on the webhook listener over HTTPS, trusting the test CA.
int https_status(const stack& s, const std::string& target) {
    const auto r = run({"/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert",
                        s.ca().ca_cert.string(),
                        "https://127.0.0.1:" + std::to_string(s.webhook_port()) + target});
    return r.exit_code == 0 ? std::stoi(r.out) : -1;
}

} // namespace

TEST_CASE(
    "doctor: a correct HTTPS setup is all ok with exit 0, and --json has the documented shape") {
    stack s("doctor-ok", {.webhook_tls = true});
    replace_webhook_cert(s, "long-lived", "DNS:localhost,IP:127.0.0.1", ninety_days);
    s.start_simulator();
    s.start_serve();
    const auto r = doctor(s, {"--ca-file", s.ca().ca_cert.string()});
    INFO(r.out << r.err << s.logs());
    CHECK(r.exit_code == 0);
    for (const char* name : {"config", "api key", "clock", "output dir", "certificate", "daemon",
                             "public url", "stuck jobs"})
        CHECK_MESSAGE(level_of(r, name) == "ok", name);
    CHECK(r.out.find("all 8 checks ok") != std::string::npos);
    CHECK(line_of(r, "public url").find("reaches this daemon") != std::string::npos);

    const auto j = doctor(s, {"--ca-file", s.ca().ca_cert.string(), "--json"});
    CHECK(j.exit_code == 0);
    const json::value v = json::parse(j.out);
    CHECK(v.at("ok").as_bool());
    const auto& checks = v.at("checks").as_array();
    REQUIRE(checks.size() == 8);
    for (const auto& c : checks) {
        CHECK(c.as_object().size() == 3);
        CHECK(c.at("name").is_string());
        CHECK(c.at("level").as_string() == "ok");
        CHECK(!c.at("message").as_string().empty());
    }
    CHECK(checks[6].at("name").as_string() == "public url");

    // The daemon's checks need the token; a probe id it did not issue is 404.
    CHECK(http_request(s.api_port(), "POST", "/v1/doctor", "{}").status == 401);
    CHECK(https_status(s, "/webhook/probe/0123456789abcdef0123456789abcdef") == 404);
}

TEST_CASE("doctor: a public URL that reaches another server, even another stemd, is a problem") {
    stack other("doctor-other");
    other.start_simulator();
    other.start_serve();
    stack s("doctor-wrong-url");
    s.start_simulator();

    SUBCASE("another stemd's webhook listener") {
        set_config_line(s, "public_url",
                        "public_url = \"http://127.0.0.1:" + std::to_string(other.webhook_port()) +
                            "\"");
    }
    SUBCASE("a second simulator") {
        set_config_line(s, "public_url",
                        "public_url = \"https://127.0.0.1:" + std::to_string(other.sim_port()) +
                            "\"");
    }
    s.start_serve();
    const auto r = doctor(s, {"--ca-file", s.ca().ca_cert.string()});
    INFO(r.out << r.err << s.logs());
    CHECK(r.exit_code == 1);
    CHECK(level_of(r, "public url") == "problem");
    CHECK(line_of(r, "public url").find("reaches something else") != std::string::npos);
    CHECK(level_of(r, "daemon") == "ok");
    MESSAGE("stemd doctor, public_url pointing elsewhere:\n" << r.out);
}

TEST_CASE(
    "doctor: a wrong API key is a problem, and without the daemon the local checks still run") {
    stack s("doctor-key");
    s.start_simulator();
    // Started once, so the API token exists, then gone.
    s.start_serve();
    s.kill_serve();
    set_config_line(s, "api_key", "api_key = \"not-the-right-key\"");
    const auto r = doctor(s);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(level_of(r, "api key") == "problem");
    CHECK(line_of(r, "api key").find("refused the key (401") != std::string::npos);
    CHECK(level_of(r, "daemon") == "problem");
    CHECK(line_of(r, "daemon").find("is `stemd serve` running") != std::string::npos);
    CHECK(level_of(r, "output dir") == "ok");
    CHECK(level_of(r, "public url") == "warning");
}

TEST_CASE("doctor: a key file only the daemon could read: the daemon checks the key, the "
          "folder and the clock, and without it the key is not checked but the rest still is") {
    // As with the packaged unit, whose key is a credential only the service
    // sees: the daemon read the file at its start, this command cannot.
    stack s("doctor-key-file");
    const auto key_file = s.ws() / "api-key";
    std::ofstream(key_file) << "integration-test-key\n";
    ::chmod(key_file.c_str(), 0600);
    set_config_line(s, "api_key", "api_key_file = \"" + key_file.string() + "\"");
    s.start_simulator();
    s.start_serve();
    std::filesystem::remove(key_file);

    const auto r = doctor(s);
    INFO(r.out << r.err << s.logs());
    CHECK(r.exit_code == 0);
    CHECK(line_of(r, "config").find("cannot be read here; the daemon checks the key") !=
          std::string::npos);
    CHECK(level_of(r, "api key") == "ok");
    CHECK(level_of(r, "clock") == "ok");
    CHECK(line_of(r, "output dir").find("the daemon, as user ") != std::string::npos);
    CHECK(level_of(r, "public url") == "ok");
    MESSAGE("stemd doctor, key file readable only by the daemon:\n" << r.out);

    s.kill_serve();
    const auto down = doctor(s);
    INFO(down.out << down.err);
    CHECK(down.exit_code == 1);
    CHECK(level_of(down, "api key") == "warning");
    CHECK(line_of(down, "api key")
              .find("not checked: the daemon, which holds the key, did not "
                    "answer, and here: cannot read") != std::string::npos);
    CHECK(line_of(down, "api key").find(key_file.string()) != std::string::npos);
    CHECK(level_of(down, "clock") == "warning");
    CHECK(level_of(down, "output dir") == "ok");
    CHECK(
        line_of(down, "output dir").find("this command (the daemon did not check it), as user ") !=
        std::string::npos);
    CHECK(level_of(down, "certificate") != "");
    CHECK(level_of(down, "daemon") == "problem");
    MESSAGE("stemd doctor, the same with the daemon stopped:\n" << down.out);
}

TEST_CASE("doctor: a job waiting longer than its bound is listed by id") {
    // The webhook is ten minutes away: the job stays submitted.
    stack s("doctor-stuck", {.webhook_delay_ms = 600'000});
    s.start_simulator();
    s.start_serve();
    auto [status, job] = s.submit(R"({"audio_url":"https://songs.example/a.mp3"})");
    REQUIRE(status == 201);
    const std::string id = str(job, "id");
    CHECK(level_of(doctor(s), "stuck jobs") == "ok");

    // Ten hours pass for the job: far beyond max(3 * eta, 300 s) + 3600 s.
    s.kill_serve();
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(s.database().c_str(), &db) == SQLITE_OK);
    const std::string sql =
        "UPDATE jobs SET created_at = created_at - 36000000 WHERE id = '" + id + "'";
    CHECK(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    s.start_serve();

    const auto r = doctor(s);
    INFO(r.out << r.err << s.logs());
    CHECK(r.exit_code == 1);
    CHECK(level_of(r, "stuck jobs") == "problem");
    CHECK(line_of(r, "stuck jobs").find(id + " (submitted for 10 h)") != std::string::npos);
}

TEST_CASE("doctor: an output folder that cannot be written is a problem") {
    stack s("doctor-output");
    // sysfs refuses new files even to root; a 0555 folder refuses others.
    std::filesystem::path dir = "/sys/stemd-doctor-stems";
    if (::geteuid() != 0) {
        dir = s.ws() / "locked" / "stems";
        std::filesystem::create_directories(dir);
        ::chmod(dir.c_str(), 0555);
    }
    set_config_line(s, "output_dir", "output_dir = \"" + dir.string() + "\"");
    s.start_simulator();
    const auto r = doctor(s);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(level_of(r, "output dir") == "problem");
    CHECK(line_of(r, "output dir").find("cannot write in") != std::string::npos);
}

TEST_CASE("doctor: the certificate at the public URL: another name is a problem, close to its "
          "end a warning") {
    stack s("doctor-cert", {.webhook_tls = true});
    std::string expected_level, expected_text;
    SUBCASE("for another name") {
        replace_webhook_cert(s, "elsewhere", "DNS:elsewhere.test", ninety_days);
        expected_level = "problem";
        expected_text = "is not valid for the host name \"127.0.0.1\"";
    }
    SUBCASE("expiring in a day (the test CA's own)") {
        expected_level = "warning";
        expected_text = "expires in 2";
    }
    s.start_simulator();
    s.start_serve();
    const auto r = doctor(s, {"--ca-file", s.ca().ca_cert.string()});
    INFO(r.out << r.err << s.logs());
    CHECK(level_of(r, "certificate") == expected_level);
    CHECK(line_of(r, "certificate").find(expected_text) != std::string::npos);
    CHECK(r.exit_code == (expected_level == "problem" ? 1 : 0));
    // The probe does not judge the certificate: the URL does reach this daemon.
    CHECK(level_of(r, "public url") == "ok");
}

TEST_CASE("doctor: a clock five minutes off MusicGPT's is a problem") {
    stack s("doctor-clock", {.clock_ahead_s = 300});
    s.start_simulator();
    const auto r = doctor(s);
    INFO(r.out << r.err);
    CHECK(level_of(r, "clock") == "problem");
    CHECK(line_of(r, "clock").find("behind MusicGPT's") != std::string::npos);
    CHECK(level_of(r, "api key") == "ok");
}
