// A job's stems served by the real daemon: GET and HEAD on each file's
// href, whole and by range, the validators, and the refusals (not done yet,
// unknown, a link swapped in below output_dir, no token).

#include "integration/stack.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace json = boost::json;
using namespace stemd::test;
using namespace std::chrono_literals;

namespace {

// The value of a header line in `headers` (case-insensitive name), "" when absent.
std::string header_value(const std::string& headers, const std::string& name) {
    std::string lower = headers;
    for (char& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string key = "\n" + name + ":";
    for (char& c : key)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto at = ("\n" + lower).find(key);
    if (at == std::string::npos)
        return {};
    const auto start = at + key.size() - 1; // in `headers`, after the colon
    const auto end = headers.find("\r\n", start);
    std::string v = headers.substr(start, end - start);
    while (!v.empty() && v.front() == ' ')
        v.erase(0, 1);
    return v;
}

// Every byte the server sends for one request before it closes, read
// without parsing a body: what HEAD must answer with is a header only.
std::string raw_exchange(int port, const std::string& request) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    timeval five{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
    std::string out;
    char buf[4096];
    for (int i = 0; i < 10'000; ++i) {
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

struct served_job {
    json::value job;
    std::string href;
    std::string path;
    std::string bytes_on_disk;
};

served_job completed_job(stack& s) {
    auto [status, created] =
        s.submit(R"({"audio_url":"https://songs.example/track.mp3","stems":["vocals"]})");
    REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
    auto job = s.wait_for(str(created, "id"), "completed");
    const auto& file = only_file(job);
    served_job out{job, str(file, "href"), str(file, "path"), {}};
    out.bytes_on_disk = read_file(out.path);
    REQUIRE(out.bytes_on_disk.size() == file.at("bytes").to_number<std::uint64_t>());
    return out;
}

} // namespace

TEST_CASE("a completed job's stem is served whole and by range, with validators") {
    stack s("files-route", {.stem_bytes = 200 * 1000});
    s.start_simulator();
    s.start_serve();
    const auto j = completed_job(s);
    const auto& file = only_file(j.job);
    const std::string etag = "\"" + str(file, "sha256") + "\"";
    CHECK(j.href == "/v1/jobs/" + str(j.job, "id") + "/files/" + str(file, "name"));
    CHECK(str(file, "media_type") == "audio/wav");

    auto whole = s.api_request("GET", j.href);
    REQUIRE_MESSAGE(whole.status == 200, whole.body << s.logs());
    CHECK(whole.body == j.bytes_on_disk);
    CHECK(sha256_hex(whole.body) == str(file, "sha256"));
    CHECK(header_value(whole.headers, "ETag") == etag);
    CHECK(header_value(whole.headers, "Accept-Ranges") == "bytes");
    CHECK(header_value(whole.headers, "Content-Type") == "audio/wav");
    CHECK(header_value(whole.headers, "Cache-Control") == "private, no-cache");
    CHECK(header_value(whole.headers, "X-Content-Type-Options") == "nosniff");
    CHECK(header_value(whole.headers, "Content-Disposition") == "inline; filename=\"vocals.wav\"");

    const auto size = j.bytes_on_disk.size();
    struct ranged {
        std::string range;
        std::size_t first, last;
    };
    for (const auto& r :
         {ranged{"bytes=0-0", 0, 0}, ranged{"bytes=100-70099", 100, 70099},
          ranged{"bytes=150000-", 150000, size - 1}, ranged{"bytes=-500", size - 500, size - 1},
          ranged{"bytes=199990-999999", 199990, size - 1}}) {
        CAPTURE(r.range);
        auto part = s.api_request("GET", j.href, "", "", "Range: " + r.range + "\r\n");
        REQUIRE(part.status == 206);
        CHECK(part.body == j.bytes_on_disk.substr(r.first, r.last - r.first + 1));
        CHECK(header_value(part.headers, "Content-Range") == "bytes " + std::to_string(r.first) +
                                                                 "-" + std::to_string(r.last) +
                                                                 "/" + std::to_string(size));
        CHECK(header_value(part.headers, "ETag") == etag);
    }

    auto beyond = s.api_request("GET", j.href, "", "", "Range: bytes=200000-\r\n");
    CHECK(beyond.status == 416);
    CHECK(header_value(beyond.headers, "Content-Range") == "bytes */" + std::to_string(size));

    auto several = s.api_request("GET", j.href, "", "", "Range: bytes=0-1, 5-9\r\n");
    CHECK(several.status == 200);
    CHECK(several.body == j.bytes_on_disk);

    auto unchanged = s.api_request("GET", j.href, "", "", "If-None-Match: " + etag + "\r\n");
    CHECK(unchanged.status == 304);
    CHECK(unchanged.body.empty());
    auto changed = s.api_request("GET", j.href, "", "", "If-None-Match: \"other\"\r\n");
    CHECK(changed.status == 200);

    auto same =
        s.api_request("GET", j.href, "", "", "Range: bytes=10-19\r\nIf-Range: " + etag + "\r\n");
    CHECK(same.status == 206);
    CHECK(same.body == j.bytes_on_disk.substr(10, 10));
    auto stale = s.api_request("GET", j.href, "", "",
                               "Range: bytes=10-19\r\nIf-Range: \"not-this-one\"\r\n");
    CHECK(stale.status == 200);
    CHECK(stale.body == j.bytes_on_disk);

    // HEAD: the same header, no body at all on the wire.
    const auto head =
        raw_exchange(s.api_port(), "HEAD " + j.href + " HTTP/1.1\r\nHost: 127.0.0.1:" +
                                       std::to_string(s.api_port()) + "\r\nAuthorization: Bearer " +
                                       s.api_token() + "\r\nConnection: close\r\n\r\n");
    CHECK(head.starts_with("HTTP/1.1 200"));
    CHECK(head.find("\r\n\r\n") + 4 == head.size());
    CHECK(header_value(head, "Content-Length") == std::to_string(size));

    CHECK(s.api_request("GET", j.href + "?x=1").status == 400);
    CHECK(s.api_request("POST", j.href).status == 405);
    auto unknown = s.api_request("GET", "/v1/jobs/" + str(j.job, "id") + "/files/bass");
    CHECK(unknown.status == 404);
    CHECK(unknown.body.find("no file \\\"bass\\\"") != std::string::npos);
    CHECK(s.api_request("GET", "/v1/jobs/nope/files/vocals").status == 404);

    // No token, no file.
    CHECK(http_request(s.api_port(), "GET", j.href, "", "").status == 401);
}

TEST_CASE("a symbolic link swapped in for a stem or its folder is not followed") {
    stack s("files-link");
    s.start_simulator();
    s.start_serve();
    const auto j = completed_job(s);
    const std::filesystem::path stem(j.path);
    // The same bytes elsewhere: only the link itself may make it refused.
    const auto elsewhere = s.ws() / "elsewhere";
    std::filesystem::create_directories(elsewhere);
    write_file(elsewhere / stem.filename(), j.bytes_on_disk);

    std::filesystem::remove(stem);
    std::filesystem::create_symlink(elsewhere / stem.filename(), stem);
    auto linked = s.api_request("GET", j.href);
    CHECK(linked.status == 403);
    CHECK_MESSAGE(linked.body.find("symbolic link") != std::string::npos, linked.body);
    CHECK(linked.body.find(j.bytes_on_disk.substr(0, 16)) == std::string::npos);

    std::filesystem::remove(stem);
    const auto folder = stem.parent_path();
    std::filesystem::rename(folder, s.ws() / "moved");
    std::filesystem::create_directory_symlink(elsewhere, folder);
    auto through = s.api_request("GET", j.href);
    CHECK(through.status == 403);
    CHECK_MESSAGE(through.body.find("symbolic link") != std::string::npos, through.body);

    // Gone from disk: 404 naming it.
    std::filesystem::remove(folder);
    auto gone = s.api_request("GET", j.href);
    CHECK(gone.status == 404);
    CHECK_MESSAGE(gone.body.find("no longer on disk") != std::string::npos, gone.body);
}

TEST_CASE("a stem still downloading is 409, then served once done") {
    stack s("files-early", {.stem_bytes = 256 * 1024, .rate = 64 * 1024});
    s.start_simulator();
    s.start_serve();
    auto [status, created] =
        s.submit(R"({"audio_url":"https://songs.example/track.mp3","stems":["vocals"]})");
    REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
    const auto id = str(created, "id");
    s.wait_for_partial(1, 30s);
    auto job = s.job(id);
    const auto href = str(only_file(job), "href");
    auto early = s.api_request("GET", href);
    CHECK(early.status == 409);
    CHECK_MESSAGE(early.body.find("not downloaded yet") != std::string::npos, early.body);
    s.wait_for(id, "completed");
    CHECK(s.api_request("GET", href).status == 200);
}
