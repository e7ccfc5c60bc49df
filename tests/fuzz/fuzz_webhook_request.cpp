// libFuzzer target: the HTTP request path of the webhook listener. The bytes
// are what a peer sends on one connection: they go through a Beast
// request_parser with the listener's default limits, and every request that
// parses goes to server::handle_webhook, as http_server does, with a real
// jobs::service over a real sqlite_store (one SQLite file per process).
//
// The store holds one submitted job whose webhook token is known, and a
// shared secret is set, so inputs that start from the seed corpus reach the
// payload parser, the token check and the store's transitions rather than
// stopping at "unknown webhook token". A request carrying webhook-signature
// goes to a listener that requires Standard Webhooks signatures; the value
// "resign" makes the harness sign it validly with the current time (a fixed
// signature would expire), so the replay guard is reached too.

#include "server/webhook_handler.hpp"

#include "client/connection.hpp"
#include "common/crypto.hpp"
#include "common/log.hpp"
#include "jobs/service.hpp"
#include "storage/sqlite_store.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <boost/asio/io_context.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <chrono>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string_view>

namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
namespace fs = std::filesystem;

// The limits http_server uses unless stemd.toml changes them.
constexpr std::size_t header_limit = 8 * 1024;
constexpr std::size_t body_limit = 1024 * 1024;
// A peer may pipeline requests; more than this many in one input adds
// nothing but time.
constexpr int max_requests = 16;

// Written into the seed corpus (tests/fuzz/corpus/fuzz_webhook_request/).
constexpr std::string_view job_token =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
constexpr std::string_view shared_secret = "fuzz-shared-secret-0123456789";
constexpr std::string_view signing_key = "fuzz-signing-key-0123456789abcdef";

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

// What a relay holding signing_key would send for this request, now.
void sign(stemd::listener::request& req) {
    const std::string timestamp = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count());
    const std::string signed_text =
        std::string(req["webhook-id"]) + "." + timestamp + "." + req.body();
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_size = 0;
    FUZZ_CHECK(HMAC(EVP_sha256(), signing_key.data(), static_cast<int>(signing_key.size()),
                    reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size(),
                    mac, &mac_size) != nullptr);
    req.set("webhook-timestamp", timestamp);
    req.set("webhook-signature",
            "v1," + base64(std::string_view(reinterpret_cast<const char*>(mac), mac_size)));
}

// A SyncReadStream over the input: what the socket would deliver.
class memory_stream {
public:
    explicit memory_stream(std::string_view bytes) : rest_(bytes) {}

    template <class MutableBuffers>
    std::size_t read_some(const MutableBuffers& buffers, boost::system::error_code& ec) {
        ec = {};
        if (rest_.empty()) {
            ec = net::error::eof;
            return 0;
        }
        const auto n = net::buffer_copy(buffers, net::buffer(rest_.data(), rest_.size()));
        rest_.remove_prefix(n);
        return n;
    }

    template <class MutableBuffers>
    std::size_t read_some(const MutableBuffers& buffers) {
        boost::system::error_code ec;
        const auto n = read_some(buffers, ec);
        if (ec)
            throw boost::system::system_error(ec);
        return n;
    }

private:
    std::string_view rest_;
};

// Everything that lives for the whole process. Never destroyed: libFuzzer
// may leave through exit() while an input is being processed.
struct world {
    fs::path dir;
    net::io_context io{1};
    std::shared_ptr<net::ssl::context> api_tls = stemd::client::make_tls_client_context("");
    std::shared_ptr<net::ssl::context> download_tls = stemd::client::make_tls_client_context("");
    std::unique_ptr<stemd::storage::sqlite_store> store;
    std::unique_ptr<stemd::jobs::service> service;
    std::unique_ptr<stemd::server::webhook_context> hook;
    std::unique_ptr<stemd::server::webhook_context> signed_hook;

    world() {
        // Every accepted delivery is a committed SQLite transaction; on tmpfs
        // its fsync costs nothing, so the fuzzer spends its time in our code.
        const fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
        dir = base / ("stemd-fuzz-" + std::to_string(::getpid()));
        fs::create_directories(dir);

        auto opened = stemd::storage::sqlite_store::open(dir / "jobs.db");
        FUZZ_CHECK(opened);
        store = std::make_unique<stemd::storage::sqlite_store>(std::move(*opened));

        auto job = store->create_job({.audio_url = "https://example.com/song.mp3",
                                      .token_hash = stemd::sha256_hex(job_token)});
        FUZZ_CHECK(job);
        FUZZ_CHECK(store->mark_submitted(job->id, "task-fuzz-1", "conv-fuzz-1", 120.0, 5.5,
                                         "IN_QUEUE"));

        stemd::jobs::service_options options;
        options.public_url = "https://stemd.example.com";
        options.output_dir = dir / "stems";
        service = std::make_unique<stemd::jobs::service>(io.get_executor(), *store, options, *api_tls,
                                                         *download_tls);
        hook = std::make_unique<stemd::server::webhook_context>(
            stemd::server::webhook_context{*service, std::string(shared_secret), std::nullopt});
        signed_hook = std::make_unique<stemd::server::webhook_context>(
            stemd::server::webhook_context{*service, std::string(shared_secret),
                                           stemd::server::signature_verifier(
                                               "whsec_" + base64(signing_key))});
    }
};

world& the_world() {
    static world* w = [] {
        auto* made = new world;
        // The database is scratch; leave nothing behind on a normal exit.
        static const fs::path to_remove = made->dir;
        std::atexit([] {
            std::error_code ec;
            fs::remove_all(to_remove, ec);
        });
        return made;
    }();
    return *w;
}

bool is_expected_status(unsigned s) {
    for (const unsigned ok : {200u, 400u, 401u, 404u, 405u, 409u, 413u, 500u})
        if (s == ok)
            return true;
    return false;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // Accepted and refused deliveries are logged at info/warning; at fuzzing
    // rates that is all the fuzzer would do.
    stemd::set_log_level(stemd::log_level::error);
    the_world();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto& w = the_world();
    memory_stream stream(std::string_view(reinterpret_cast<const char*>(data), size));
    boost::beast::flat_buffer buffer;

    for (int i = 0; i < max_requests; ++i) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(header_limit));
        parser.body_limit(body_limit);
        boost::system::error_code ec;
        http::read(stream, buffer, parser, ec);
        if (ec) {
            // The listener answers 400/413/431 and closes, or just closes at
            // the end of the stream; nothing of ours runs.
            return 0;
        }
        FUZZ_CHECK(parser.is_done());
        stemd::listener::request req = parser.release();
        FUZZ_CHECK(req.body().size() <= body_limit);

        // An exception here would reach http_server's catch-all and become a
        // 500; the handler promises results instead, so it is a finding.
        auto* hook = w.hook.get();
        if (const auto given = req["webhook-signature"]; !given.empty()) {
            hook = w.signed_hook.get();
            if (given == "resign")
                sign(req);
        }
        stemd::listener::response res = stemd::server::handle_webhook(*hook, req);
        FUZZ_CHECK(is_expected_status(res.result_int()));
        FUZZ_CHECK(res.has_content_length() || res.body().empty());
        FUZZ_CHECK(!res.body().empty());

        // What the listener does before sending: it must serialize.
        res.version(req.version());
        res.keep_alive(req.keep_alive());
        std::ostringstream wire;
        wire << res;
        FUZZ_CHECK(wire.str().size() > res.body().size());
        if (!res.keep_alive())
            return 0;
    }
    return 0;
}
