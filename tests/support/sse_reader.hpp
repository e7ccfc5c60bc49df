#pragma once

// A Server-Sent Events reader over a plain loopback socket, written without
// stemd's code: it sends one GET, reads the response header, then parses
// the body (until the server closes; no chunked encoding, which stemd's
// event stream does not use) into events as they arrive.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace stemd::test {

struct sse_event {
    std::string id;      // the id: field, "" when none
    std::string event;   // the event: field, "" when none
    std::string data;    // data: lines joined with '\n'
    std::string comment; // a ": …" line's text; such an entry carries only this
};

// The text/event-stream format, fed bytes in any split.
class sse_parser {
public:
    // The events (and comments) completed by `bytes`.
    std::vector<sse_event> feed(const std::string& bytes);

private:
    void line(std::string l, std::vector<sse_event>& out);
    std::string pending_;
    sse_event current_;
    bool has_fields_ = false;
};

class sse_reader {
public:
    // Connects to 127.0.0.1:port and sends GET `target` with `extra_headers`
    // (each ending in CRLF); throws std::runtime_error when it cannot connect.
    sse_reader(int port, const std::string& target, const std::string& extra_headers);
    ~sse_reader();
    sse_reader(const sse_reader&) = delete;
    sse_reader& operator=(const sse_reader&) = delete;

    // Waits for the response header; the status (0 when none in `timeout`).
    int status(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    const std::string& headers() const { return headers_; } // lines, each ending in CRLF
    // The body of a response that is no stream (an error's JSON), read to its end.
    std::string rest(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // The next event or comment; nullopt when none arrives in `timeout` or
    // the server closed (closed() tells which).
    std::optional<sse_event> next(std::chrono::milliseconds timeout);
    // The next `event: job` (comments and progress skipped), as next().
    std::optional<sse_event> next_job(std::chrono::milliseconds timeout);
    bool closed() const { return closed_; }
    // Closes the connection now (a client going away).
    void close();

private:
    bool read_some(std::chrono::steady_clock::time_point deadline);

    int fd_ = -1;
    int status_ = 0;
    std::string headers_;
    std::string raw_; // bytes not yet parsed
    bool closed_ = false;
    sse_parser parser_;
    std::vector<sse_event> ready_;
};

} // namespace stemd::test
