#pragma once

// What the downloader tests share: a loopback HTTP/1.1 server answering
// with the bytes each test chooses, builders for those bytes, and one
// download run to completion. Asio stays in the .cpp.

#include "client/downloader.hpp"
#include "tests/support/workspace.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stemd::client::testing {

struct seen_request {
    std::string target;
    std::string host;
    std::string user_agent;
    std::string accept;
    std::string range;
    std::string if_range;
};

// The raw bytes to send back; the connection is closed after them, so a
// response shorter than its Content-Length is a transfer cut short.
using handler = std::function<std::string(const seen_request&)>;

// How the answer is sent: all at once, or `bytes` at a time with `every`
// between (a trickle that never stalls for long).
struct pacing {
    std::size_t bytes = 0;
    std::chrono::milliseconds every{0};
};

// A loopback HTTP/1.1 server on its own thread answering every request
// with whatever the test's handler says.
class test_server {
public:
    explicit test_server(handler h, pacing p = {});
    ~test_server();
    test_server(const test_server&) = delete;
    test_server& operator=(const test_server&) = delete;

    std::string url(std::string_view target) const;
    std::vector<seen_request> requests() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

using header_list = std::vector<std::pair<std::string, std::string>>;

// A response whose Content-Length is the body's unless `announced` says
// otherwise (more than sent = a transfer cut short).
std::string response(unsigned status, const header_list& headers, std::string_view body,
                     std::optional<std::size_t> announced = std::nullopt);
std::string chunked_response(const header_list& headers, std::string_view body, std::size_t chunk);
std::string redirect(unsigned status, std::string_view location);
// Longer than the downloader's 64 KiB buffer, and not a repeating pattern.
std::string make_body(std::size_t size);
// "Range: bytes=N-" -> N
std::size_t range_start(const std::string& range);
// A 206 with the rest of `body` from `from` on, naming version `etag`.
std::string partial_response(std::string_view body, std::size_t from,
                             std::string_view etag = "\"v1\"");
// Leaves `bytes` in "{final}.part" with a resume record naming version
// "v1" of `url` (what an interrupted download of it would have left).
void leave_part(const std::filesystem::path& final_path, std::string_view bytes,
                std::string_view url, std::uint64_t total = 0);

using outcome = stemd::result<download_result>;

// Runs one download to its end on an io_context of its own.
outcome fetch(const download_request& r, const download_options& o = {});

// A request for `target` on `server`, downloading into dir/stems.
download_request request_for(const test_server& server, std::string_view target,
                             const stemd::test::workspace& dir, std::string name = "track_vocals");

// Holds each prefix hash on the worker at its start
// (client::set_before_hash_hook) until release(), or at most 10 s; installed
// for the gate's lifetime. A test sees a hash under way for as long as it
// needs, however fast the machine hashes.
class hash_gate {
public:
    hash_gate();
    ~hash_gate(); // releases, then uninstalls
    hash_gate(const hash_gate&) = delete;
    hash_gate& operator=(const hash_gate&) = delete;

    // A hash is held at the gate (or was).
    bool started() const;
    // Until one is, or 10 s pass.
    bool wait_started() const;
    void release();
    // No hash held was let go by the 10 s bound instead of release().
    bool released_in_time() const;

private:
    struct state;
    std::shared_ptr<state> state_;
};

} // namespace stemd::client::testing
