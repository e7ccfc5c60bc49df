#pragma once

#include <chrono>
#include <string>

namespace stemd::test {

// The raw text of a GET for `target` to 127.0.0.1, for raw_connection;
// `extra` are header lines, each ending in CRLF.
inline std::string raw_get(const std::string& target, const std::string& extra = "") {
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n";
}

// A blocking HTTP/1.1 request over a plain loopback socket, written without
// stemd's client code so the tests do not trust what they test. Sends
// "Connection: close", Content-Length always, and Content-Type unless
// `content_type` is empty. Reads a Content-Length, chunked or until-close body;
// gives up when nothing arrives for 5 s.
struct http_answer {
    int status = 0;      // 0: connection failed or no complete response (body says why)
    std::string body;    // decoded (chunked encoding removed)
    std::string headers; // header lines after the status line, each ending in CRLF
};
// `extra_headers` are raw header lines, each ending in CRLF.
http_answer http_request(int port, const std::string& method, const std::string& target,
                         const std::string& body = "",
                         const std::string& content_type = "application/json",
                         const std::string& extra_headers = "");

// A blocking TCP connection to 127.0.0.1:port for tests that misbehave on
// purpose (slow senders, oversized headers, held-open keep-alive), written
// without stemd's code.
class raw_connection {
public:
    explicit raw_connection(int port); // throws std::runtime_error if it cannot connect
    ~raw_connection();
    raw_connection(const raw_connection&) = delete;
    raw_connection& operator=(const raw_connection&) = delete;

    // False once the peer has closed or reset the connection.
    bool send(const std::string& bytes);
    // Reads one response (Content-Length or chunked body); status 0 (and
    // the reason in body) when the connection closes first or `timeout`
    // passes.
    http_answer read_response(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // True once the peer closes (EOF or reset) within `timeout`; whatever
    // arrives meanwhile is discarded.
    bool closed_within(std::chrono::milliseconds timeout);

private:
    int fd_ = -1;
};

} // namespace stemd::test
