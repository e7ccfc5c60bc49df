// What the listeners bound beyond header and body sizes, with the real
// binary: chunk extensions and trailers, requests per connection,
// connections per address, running out of descriptors, and requests
// pipelined inside TLS.

#include "integration/stack.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

using namespace stemd;
using namespace stemd::test;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

namespace {

// VmRSS of a process in KiB, from /proc/<pid>/status.
long rss_kib(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.starts_with("VmRSS:"))
            return std::stol(line.substr(6));
    return -1;
}

// utime + stime of a process in clock ticks, from /proc/<pid>/stat.
long cpu_ticks(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Fields after the command name (which may hold spaces) in parentheses.
    std::istringstream rest(all.substr(all.rfind(')') + 2));
    std::string field;
    long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14)
            utime = std::stol(field);
        if (i == 15)
            stime = std::stol(field);
    }
    return utime + stime;
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++n;
    return n;
}

const std::string chunked_post = "POST /webhook/x HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 "Transfer-Encoding: chunked\r\n\r\n";

} // namespace

// Beast's header limit covers neither chunk-size lines nor the trailer, and
// its body limit counts body octets only: without a cap on the read buffer
// both grow memory by what the peer sends.
TEST_CASE("an endless chunk extension or trailer is refused with memory bounded") {
    stack s("listener-endless");
    s.start_serve();
    const std::string megabyte(1024 * 1024, 'e');
    for (int port : {s.webhook_port(), s.api_port()}) {
        for (const std::string start : {"1;", "1\r\na\r\n0\r\nX-Trailer: "}) {
            CAPTURE(port);
            CAPTURE(start);
            const long before = rss_kib(s.serve().pid());
            REQUIRE(before > 0);
            raw_connection c(port);
            // The API refuses a request without its token from the header,
            // before reading any body: this one carries it, so the body's
            // bounds are what is tested there too.
            const std::string access = port == s.api_port()
                                           ? "Authorization: Bearer " + s.api_token() +
                                                 "\r\nContent-Type: application/json\r\n"
                                           : "";
            REQUIRE(c.send(access.empty() ? chunked_post + start
                                          : chunked_post.substr(0, chunked_post.size() - 2) +
                                                access + "\r\n" + start));
            for (int i = 0; i < 32 && c.send(megabyte); ++i) {
            }
            auto refused = c.read_response();
            // Measured while the connection is still open: a buffer freed
            // at its close would not show.
            const long after = rss_kib(s.serve().pid());
            CHECK_MESSAGE(after - before < 8 * 1024, "VmRSS " << before << " -> " << after);
            CHECK_MESSAGE(refused.status == 431, refused.body);
            CHECK_MESSAGE(refused.body.find("chunk extensions or trailer") != std::string::npos,
                          refused.body);
            CHECK(refused.headers.find("Connection: close") != std::string::npos);
        }
    }
    CHECK(s.serve().running());
}

// Each chunk line fits the read buffer; together their extensions must not
// pass header_limit either, on whichever parser reads the body.
TEST_CASE("many short chunk extensions are refused once they add up past the header limit") {
    stack s("listener-extensions");
    s.start_serve();
    std::string chunks;
    for (int i = 0; i < 400; ++i)
        chunks += "1;x=" + std::string(60, 'e') + "\r\na\r\n"; // 25 KiB of extensions
    chunks += "0\r\n\r\n";
    for (int port : {s.webhook_port(), s.api_port()}) {
        CAPTURE(port);
        const std::string access = port == s.api_port()
                                       ? "Authorization: Bearer " + s.api_token() +
                                             "\r\nContent-Type: application/json\r\n"
                                       : "";
        raw_connection c(port);
        REQUIRE(c.send(chunked_post.substr(0, chunked_post.size() - 2) + access + "\r\n" + chunks));
        auto refused = c.read_response();
        CHECK_MESSAGE(refused.status == 431, refused.body);
    }
    CHECK(s.serve().running());
}

TEST_CASE("a kept-alive connection is closed after max_requests_per_connection") {
    stack s("listener-requests", {.limits_config = "max_requests_per_connection = 3\n"});
    s.start_serve();
    raw_connection c(s.api_port());
    for (int i = 1; i <= 3; ++i) {
        CAPTURE(i);
        REQUIRE(c.send(raw_get("/healthz")));
        auto a = c.read_response();
        REQUIRE(a.status == 200);
        const bool closing = a.headers.find("Connection: close") != std::string::npos;
        CHECK(closing == (i == 3));
    }
    CHECK(c.closed_within(5s));
}

TEST_CASE("one client address cannot take more than max_connections_per_address") {
    stack s("listener-per-address",
            {.limits_config = "max_connections = 10\nmax_connections_per_address = 2\n"});
    s.start_serve();
    const int port = s.webhook_port();
    std::vector<std::unique_ptr<raw_connection>> held;
    for (int i = 0; i < 2; ++i) {
        held.push_back(std::make_unique<raw_connection>(port));
        REQUIRE(held.back()->send(raw_get("/")));
        REQUIRE(held.back()->read_response().status == 404);
    }
    {
        raw_connection third(port);
        third.send(raw_get("/"));
        CHECK(third.read_response(5s).status == 0);
    }
    held.pop_back();
    CHECK(wait_until(
        [&] {
            raw_connection c(port);
            return c.send(raw_get("/")) && c.read_response(2s).status == 404;
        },
        10s));
}

// Out of descriptors, accept fails at once for as long as the queued
// connections wait: the listener must wait between attempts (and log it
// once), not spin, and accept again once descriptors are free.
TEST_CASE("out of descriptors, the listener waits instead of spinning and recovers") {
    stack s("listener-emfile");
    s.start_serve();
    const int pid = s.serve().pid();
    rlimit low{64, 64};
    REQUIRE(::prlimit(pid, RLIMIT_NOFILE, &low, nullptr) == 0);

    std::vector<std::unique_ptr<raw_connection>> held;
    for (int i = 0; i < 80; ++i)
        held.push_back(std::make_unique<raw_connection>(s.webhook_port()));
    REQUIRE_MESSAGE(
        wait_until([&] { return s.serve_logs().find("accept failed") != std::string::npos; }, 10s),
        s.serve_logs());

    const long ticks_before = cpu_ticks(pid);
    const auto start = steady_clock::now();
    wait_until([&] { return steady_clock::now() - start >= 2s; }, 5s);
    const long used = cpu_ticks(pid) - ticks_before;
    // A spinning accept loop burns the whole window (~2 s of ticks).
    CHECK_MESSAGE(used * 1000 / ::sysconf(_SC_CLK_TCK) < 300, used << " ticks in 2 s");
    CHECK_MESSAGE(count(s.serve_logs(), "webhook listener: accept failed") == 1, s.serve_logs());

    held.clear();
    CHECK(
        wait_until([&] { return http_request(s.webhook_port(), "GET", "/").status == 404; }, 15s));
    CHECK(s.serve().running());
}

namespace {

// A TLS connection made with OpenSSL directly, so the test decides how
// requests fall into TLS records and records into TCP writes. With
// `batch_writes`, what SSL_write produces waits in a buffer until flush():
// several records then leave in one write(2) and arrive together.
struct raw_tls {
    int fd = -1;
    SSL_CTX* ctx = nullptr;
    SSL* ssl = nullptr;
    BIO* out = nullptr; // the write side: the socket, or a buffer over it

    raw_tls(int port, bool batch_writes) {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        timeval tick{0, 200'000};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
        REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
        ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr); // the records are the point here
        ssl = SSL_new(ctx);
        BIO* in = BIO_new_socket(fd, BIO_NOCLOSE);
        out = in;
        if (batch_writes) {
            BIO_up_ref(in);
            out = BIO_push(BIO_new(BIO_f_buffer()), in);
            REQUIRE(BIO_set_write_buffer_size(out, 64 * 1024) == 1);
        }
        SSL_set_bio(ssl, in, out); // OpenSSL flushes `out` after each handshake flight
        REQUIRE(SSL_connect(ssl) == 1);
    }
    ~raw_tls() {
        SSL_free(ssl);
        SSL_CTX_free(ctx);
        ::close(fd);
    }

    // One SSL_write: one TLS record for anything up to 16 KiB.
    void write(const std::string& text) {
        REQUIRE(SSL_write(ssl, text.data(), static_cast<int>(text.size())) ==
                static_cast<int>(text.size()));
    }
    void flush() { REQUIRE(BIO_flush(out) == 1); }

    // What arrives until `answers` HTTP/1.1 404 responses are in or the
    // server ends the connection; `limit` only bounds the loop.
    std::string read_answers(std::size_t answers, std::chrono::seconds limit) {
        std::string got;
        const auto deadline = steady_clock::now() + limit;
        char buf[4096];
        while (count(got, "HTTP/1.1 404") < answers && steady_clock::now() < deadline) {
            const int n = SSL_read(ssl, buf, sizeof buf);
            if (n > 0) {
                got.append(buf, static_cast<std::size_t>(n));
                continue;
            }
            const int e = SSL_get_error(ssl, n);
            const bool tick = e == SSL_ERROR_WANT_READ ||
                              (e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK));
            if (!tick)
                break; // closed: close_notify, end of stream or reset
        }
        return got;
    }
};

// idle_timeout = 1: a request left unseen inside the TLS layer waits for the
// idle timeout like an idle connection, and the server then closes the
// connection with the second request unanswered, which the test sees
// without measuring time.
const stack_options tls_pipelining{.webhook_tls = true, .limits_config = "idle_timeout = 1\n"};

} // namespace

// Beast reads what OpenSSL decrypted in pieces the size of its buffer's free
// room (512 bytes at first, then 1024, 2048 as it grows). When a first request
// ends exactly where such a read does, Beast's buffer is empty but the rest of
// the record is decrypted inside OpenSSL (SSL_pending), where waiting on the
// socket does not see it.
TEST_CASE("requests pipelined in one TLS record are all answered") {
    stack s("listener-tls-record", tls_pipelining);
    s.start_serve();
    for (std::size_t size : {512u, 1024u, 2048u}) {
        CAPTURE(size);
        std::string first = raw_get("/a", "X-Pad: ");
        const std::string pad(size - first.size() - 2, 'p');
        first = raw_get("/a", "X-Pad: " + pad + "\r\n");
        REQUIRE(first.size() == size);
        raw_tls c(s.webhook_port(), false);
        c.write(first + raw_get("/b"));
        const auto got = c.read_answers(2, 20s);
        CHECK_MESSAGE(count(got, "HTTP/1.1 404") == 2, got);
    }
}

// Two records in one TCP segment: Asio moves both from the socket into
// OpenSSL's input BIO, and OpenSSL decrypts only the first for the read that
// asked. The second is then in the BIO (BIO_ctrl_pending), neither decrypted
// nor on the socket.
TEST_CASE("requests pipelined in TLS records that arrive together are all answered") {
    stack s("listener-tls-records", tls_pipelining);
    s.start_serve();
    raw_tls c(s.webhook_port(), true);
    c.write(raw_get("/a"));
    c.write(raw_get("/b"));
    c.write(raw_get("/c"));
    c.flush();
    const auto got = c.read_answers(3, 20s);
    CHECK_MESSAGE(count(got, "HTTP/1.1 404") == 3, got);
}
