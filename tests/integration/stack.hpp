#pragma once

// A running stemd deployment for integration tests: `stemd simulate` over
// HTTPS with a CA made for the test, and `stemd serve` configured against it,
// all on 127.0.0.1 with ports picked at run time.

#include "support/files.hpp"
#include "support/http_probe.hpp"
#include "support/ports.hpp"
#include "support/process.hpp"
#include "support/reference_hash.hpp"
#include "support/test_ca.hpp"
#include "support/workspace.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace stemd::test {

struct stack_options {
    std::string api_version = "v2";
    std::uint64_t stem_bytes = 64 * 1024;
    std::uint64_t rate = 0; // simulator download pace, bytes/s
    int webhook_delay_ms = 100;
    int max_attempts = 5;
    std::string extra_config; // appended to [download]
    // The simulator is on 127.0.0.1, so downloads need this; tests of the
    // address guard turn it off.
    bool allow_private_addresses = true;
    // The simulator presents a self-signed certificate: [musicgpt] ca_file
    // names that certificate itself (its own trust anchor) while [download]
    // ca_file stays the test CA, so API calls work and downloads meet a
    // server they must not trust.
    bool untrusted_files = false;
    // HTTPS on the webhook listener with a copy of the test CA's server
    // certificate at webhook_cert()/webhook_key() (tests may replace them);
    // public_url is then https, and the simulator trusts the test CA.
    bool webhook_tls = false;
    std::string signing_secret; // webhook.signing_secret when not empty
    std::string limits_config;  // lines of the [limits] table
    std::string api_config;     // lines of the [api] table after listen
    std::string notify_config;  // lines of a [notify] table (none when empty)
    // storage.output instead of output_dir (e.g. "s3://bucket/prefix"),
    // and the lines of an [s3] table; both left out when empty.
    std::string output;
    std::string s3_config;
    // webhook.public_url left empty: stemd sends no webhook_url and learns
    // results only through byId.
    bool poll_only = false;
    // Simulator flags (`stemd simulate --help`); 0 / false leaves them out.
    bool no_webhooks = false;
    int link_ttl_ms = 0;
    int status_limit = 0;
    int status_window_ms = 0;
    int clock_ahead_s = 0; // the simulator's Date header this far ahead
    // storage.database: a PostgreSQL URI instead of the stack's SQLite file.
    std::string database_uri;
    // Another stack whose simulator, CA and output folder this one uses
    // (a second stemd serve of one deployment); it must outlive this one.
    const class stack* share_with = nullptr;
};

// What `stemd serve` is started with besides its config: environment
// variables (NOTIFY_SOCKET, …) and inherited descriptors (socket activation).
struct serve_launch {
    std::map<std::string, std::string> env;
    child_extras extras;
    bool wait_until_up = true; // GET /healthz answers before start_serve returns
};

class stack {
public:
    explicit stack(const std::string& label, stack_options options = {});
    ~stack();

    void start_simulator();
    void start_serve(serve_launch launch = {});
    void kill_serve(); // SIGKILL, no cleanup: a crash
    // MusicGPT is given `other`'s webhook listener as this stack's
    // public_url: deliveries for jobs submitted here go there.
    void point_webhooks_at(const stack& other);
    // The same with any URL (a load balancer in front of several stacks).
    void set_public_url(const std::string& url);
    child_process& serve() { return *serve_; }

    const workspace& ws() const { return ws_; }
    const test_ca& ca() const { return ca_; }
    int api_port() const { return api_port_.number(); }
    int webhook_port() const { return webhook_port_.number(); }
    int sim_port() const {
        return options_.share_with ? options_.share_with->sim_port() : sim_port_.number();
    }
    const std::string& secret() const { return secret_; }
    std::filesystem::path config_file() const { return ws_ / "stemd.toml"; }
    std::filesystem::path webhook_cert() const { return ws_ / "webhook-tls" / "cert.pem"; }
    std::filesystem::path webhook_key() const { return ws_ / "webhook-tls" / "key.pem"; }
    std::filesystem::path output_dir() const {
        return options_.share_with ? options_.share_with->output_dir() : ws_ / "var" / "stems";
    }
    std::filesystem::path database() const { return ws_ / "var" / "stemd.db"; }
    std::string api_url() const { return "http://127.0.0.1:" + std::to_string(api_port()); }
    // Where `stemd serve` keeps the API token (the default, beside the
    // database), and the token in it (read after the first start).
    std::filesystem::path token_file() const { return ws_ / "var" / "api-token"; }
    std::string api_token() const;
    // http_request to the API port with the token's Authorization header:
    // how every test talks to the API in raw HTTP.
    http_answer api_request(const std::string& method, const std::string& target,
                            const std::string& body = "",
                            const std::string& content_type = "application/json",
                            const std::string& extra_headers = "") const;

    // POST /v1/jobs; the parsed answer and its status.
    std::pair<int, boost::json::value> submit(const std::string& body);
    boost::json::value job(const std::string& key);
    // Polls the job until its status is `status` (or failed when waiting
    // for anything else); fails the test on timeout. Returns the job.
    boost::json::value wait_for(const std::string& key, const std::string& status,
                                std::chrono::milliseconds timeout = std::chrono::seconds(60));
    // Polls until a stem's .part file under output_dir() holds more than
    // `min_bytes` (a download is mid-body); fails the test on timeout.
    // Returns the file's path.
    std::filesystem::path wait_for_partial(std::uint64_t min_bytes,
                                           std::chrono::milliseconds timeout);
    // GET on the simulator over HTTPS (trusting the test CA): its
    // /sim/stats and /sim/deliveries pages. The status and parsed body.
    std::pair<int, boost::json::value> simulator_get(const std::string& target);
    // Both processes' logs, for failure messages.
    std::string logs() const;
    // What stemd serve itself logged, across restarts.
    std::string serve_logs() const;

    // Runs the stemd CLI with --api and --token-file pointing at this stack.
    run_result cli(std::vector<std::string> args);

private:
    void write_config();
    // What the simulator presents, and what API clients trust for it.
    const test_ca& sim_identity() const { return options_.untrusted_files ? untrusted_ : ca_; }
    const std::filesystem::path& sim_trust() const {
        if (options_.share_with)
            return options_.share_with->sim_trust();
        return options_.untrusted_files ? untrusted_.server_cert : ca_.ca_cert;
    }
    const std::filesystem::path& download_trust() const {
        return options_.share_with ? options_.share_with->download_trust() : ca_.ca_cert;
    }
    std::string public_url_; // "" = this stack's own webhook listener

    stack_options options_;
    workspace ws_;
    test_ca ca_;
    test_ca untrusted_; // made only for untrusted_files
    reserved_port sim_port_, webhook_port_, api_port_;
    std::string secret_ = "integration-test-shared-secret";
    std::unique_ptr<child_process> sim_;
    std::unique_ptr<child_process> serve_;
    int serve_starts_ = 0;
};

// `text` parsed as JSON, or null when it is not JSON.
boost::json::value parse_or_null(const std::string& text);

// The string at `key` of a JSON object (throws when absent or not a string).
inline std::string str(const boost::json::value& v, std::string_view key) {
    return std::string(v.at(key).as_string());
}

// How many times the simulator injected the named fault, from a
// /sim/stats body.
std::uint64_t injected(const boost::json::value& stats, std::string_view fault);
// Polls the simulator's /sim/stats until the counter `name` is at least
// `n`; false on timeout.
bool wait_for_stat(stack& s, std::string_view name, std::uint64_t n,
                   std::chrono::milliseconds timeout = std::chrono::seconds(20));
// The webhook path ("/webhook/{token}") of the job the simulator took as
// `task`, as the simulator logs it when it takes the task (stemd itself
// never shows the token); fails the test when it is not logged within 10 s.
std::string webhook_path_of(const stack& s, const std::string& task);

// The one file of a job (fails the test unless there is exactly one).
const boost::json::value& only_file(const boost::json::value& job);

// Files under a directory (recursive), relative paths, sorted.
std::vector<std::string> files_under(const std::filesystem::path& dir);

// Checks every file of a completed job: bytes on disk equal what the
// simulator generated, the recorded size and SHA-256 match (computed here
// with OpenSSL), and no .part is left behind.
void check_files(const stack& s, const boost::json::value& job, std::uint64_t stem_bytes);

} // namespace stemd::test
