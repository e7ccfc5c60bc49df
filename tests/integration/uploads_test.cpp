// Files reach MusicGPT as bytes a client uploads, or, for the JSON field
// audio_file, only from beneath api.file_roots: stemd does not open
// whatever path a client names.

#include "integration/stack.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <cerrno>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace stemd::test;
using namespace std::chrono_literals;

namespace {

fs::path uploads_of(const stack& s) {
    return s.database().parent_path() / "uploads";
}

bool empty_dir(const fs::path& dir) {
    return fs::is_directory(dir) && fs::is_empty(dir);
}

std::string quoted(const fs::path& p) {
    return "\"" + p.string() + "\"";
}

// A stack with these lines in its [api] table.
stack_options with_root(const std::string& extra = {}) {
    stack_options o;
    o.api_config = extra;
    return o;
}

// The header of a multipart POST /v1/jobs announcing `length` body bytes;
// `extra` are more header lines, each ending in CRLF.
std::string upload_head(std::uint64_t length, const std::string& extra) {
    return "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra +
           "Content-Type: multipart/form-data; boundary=b0undary\r\nContent-Length: " +
           std::to_string(length) + "\r\n\r\n";
}

// Polls `done` every 20 ms until it holds or `timeout` passes.
template <class F> bool eventually(F done, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

} // namespace

TEST_CASE("an upload without the token is refused from its header: nothing read, nothing "
          "spooled") {
    stack s("upload-token", with_root("upload_max_bytes = 4096\n"));
    s.start_serve();
    const std::uint64_t gigabyte = std::uint64_t{1} << 30;
    const std::string bearer = "Authorization: Bearer " + s.api_token() + "\r\n";
    struct refusal {
        std::string headers;
        int status;
    };
    for (const auto& [headers, status] :
         {refusal{"", 401}, refusal{"Authorization: Bearer " + std::string(64, 'a') + "\r\n", 401},
          refusal{bearer + "Origin: http://evil.example\r\n", 403}}) {
        CAPTURE(headers);
        // A gigabyte announced, a few bytes sent: the answer comes at once,
        // without waiting for (or storing) the rest.
        raw_connection c(s.api_port());
        REQUIRE(c.send(upload_head(gigabyte, headers) + "--b0undary\r\n"));
        const auto answer = c.read_response();
        CHECK(answer.status == status);
        CHECK(answer.headers.find("Connection: close") != std::string::npos);
        CHECK(c.closed_within(10s));
        CHECK(empty_dir(uploads_of(s)));
    }
    // With the token the same announcement meets the upload cap instead.
    raw_connection c(s.api_port());
    REQUIRE(c.send(upload_head(gigabyte, bearer)));
    CHECK(c.read_response().status == 413);
    CHECK(empty_dir(uploads_of(s)));
    // A foreign Host is refused before the token is even looked at.
    raw_connection m(s.api_port());
    REQUIRE(m.send("POST /v1/jobs HTTP/1.1\r\nHost: evil.example\r\n" + bearer +
                   "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 9\r\n\r\n"));
    CHECK(m.read_response().status == 421);
    CHECK(http_request(s.api_port(), "GET", "/healthz").status == 200);
}

TEST_CASE(
    "an upload cut off mid-body leaves nothing in uploads/, a crash's leftovers go at start") {
    stack s("upload-cut");
    s.start_serve();
    const std::string bearer = "Authorization: Bearer " + s.api_token() + "\r\n";
    {
        raw_connection c(s.api_port());
        REQUIRE(
            c.send(upload_head(1 << 20, bearer) + "--b0undary\r\n" + std::string(100 * 1024, 'x')));
        // The listener is spooling: the file exists while the body comes.
        REQUIRE(eventually([&] { return !empty_dir(uploads_of(s)); }));
    } // the client goes away with most of the body unsent
    CHECK_MESSAGE(eventually([&] { return empty_dir(uploads_of(s)); }),
                  "a half-received upload is left in " << uploads_of(s));
    CHECK(http_request(s.api_port(), "GET", "/healthz").status == 200);

    // Whole uploads whose submission fails (a form without its file; no
    // MusicGPT to take the file) are not kept either.
    const std::string type = "multipart/form-data; boundary=b0undary";
    const std::string no_file = "--b0undary\r\nContent-Disposition: form-data; "
                                "name=\"options\"\r\n\r\n{}\r\n--b0undary--\r\n";
    CHECK(s.api_request("POST", "/v1/jobs", no_file, type).status == 422);
    CHECK(empty_dir(uploads_of(s)));
    const std::string song = "--b0undary\r\nContent-Disposition: form-data; name=\"audio_file\"; "
                             "filename=\"a.wav\"\r\n\r\n" +
                             std::string(4096, 'x') + "\r\n--b0undary--\r\n";
    const auto unreachable = s.api_request("POST", "/v1/jobs", song, type);
    CHECK_MESSAGE(unreachable.status >= 500, unreachable.body);
    CHECK(empty_dir(uploads_of(s)));

    s.kill_serve();
    s.ws().write("var/uploads/upload-left-by-a-crash", std::string(1024, 'x'));
    s.start_serve();
    CHECK_MESSAGE(empty_dir(uploads_of(s)), "a stale spool file survived the start");
}

TEST_CASE("stemd submit --file uploads the bytes, which reach MusicGPT unchanged") {
    stack s("upload-cli");
    s.start_simulator();
    s.start_serve();
    std::string bytes;
    for (int i = 0; i < 200 * 1024; ++i)
        bytes.push_back(static_cast<char>(i * 7 % 251));
    const auto song = s.ws().write("elsewhere/song.wav", bytes);

    auto r = s.cli({"submit", "--file", song.string(), "--stems", "vocals", "--json"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err << s.logs());
    const auto created = json::parse(r.out);
    CHECK(str(created, "audio_file") == "song.wav"); // a name, not a path of this machine
    auto job = s.wait_for(str(created, "id"), "completed");
    check_files(s, job, 64 * 1024);
    CHECK(job.at("stems").as_array().size() == 1);

    auto stats = s.simulator_get("/sim/stats").second;
    CHECK(stats.at("uploaded_bytes").to_number<std::uint64_t>() == bytes.size());
    CHECK(str(stats, "last_upload_sha256") == sha256_hex(bytes));
    CHECK_MESSAGE(empty_dir(uploads_of(s)), "the spooled upload is left in " << uploads_of(s));
    struct stat st {};
    REQUIRE(::stat(uploads_of(s).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("an upload over api.upload_max_bytes is 413 and leaves nothing behind") {
    stack s("upload-cap", with_root("upload_max_bytes = 4096\n"));
    s.start_simulator();
    s.start_serve();
    const std::string boundary = "b0undary";
    const std::string body = "--" + boundary +
                             "\r\nContent-Disposition: form-data; name=\"audio_file\"; "
                             "filename=\"a.wav\"\r\n\r\n" +
                             std::string(8192, 'x') + "\r\n--" + boundary + "--\r\n";
    auto a = s.api_request("POST", "/v1/jobs", body, "multipart/form-data; boundary=" + boundary);
    CHECK(a.status == 413);
    CHECK(a.body.find("too large") != std::string::npos);
    CHECK(empty_dir(uploads_of(s)));

    // Below the cap the same form is taken; the JSON route keeps its own
    // (smaller) limit, so the cap applies to uploads only.
    const std::string small = "--" + boundary +
                              "\r\nContent-Disposition: form-data; name=\"audio_file\"; "
                              "filename=\"a.wav\"\r\n\r\n" +
                              std::string(1024, 'x') + "\r\n--" + boundary + "--\r\n";
    auto ok = s.api_request("POST", "/v1/jobs", small, "multipart/form-data; boundary=" + boundary);
    CHECK_MESSAGE(ok.status == 201, ok.body << s.logs());
    CHECK(empty_dir(uploads_of(s)));
    auto other = s.api_request("POST", "/v1/jobs/x/retry", std::string(8192, 'x'),
                               "multipart/form-data; boundary=" + boundary);
    CHECK(other.status == 415); // only POST /v1/jobs takes a form
    CHECK(empty_dir(uploads_of(s)));
}

TEST_CASE("a form's options part is capped and its filename must name a file") {
    stack s("upload-form-parts");
    s.start_serve();
    const std::string type = "multipart/form-data; boundary=b0undary";
    auto form = [](const std::string& filename, const std::string& options) {
        return "--b0undary\r\nContent-Disposition: form-data; name=\"options\"\r\n\r\n" + options +
               "\r\n--b0undary\r\nContent-Disposition: form-data; name=\"audio_file\"; "
               "filename=\"" +
               filename + "\"\r\n\r\n" + std::string(4096, 'x') + "\r\n--b0undary--\r\n";
    };
    // Over 64 KiB of options, well under api.upload_max_bytes.
    const std::string big = R"({"stems":[")" + std::string(100 * 1024, 'v') + R"("]})";
    const auto over = s.api_request("POST", "/v1/jobs", form("a.wav", big), type);
    CHECK(over.status == 413);
    CHECK_MESSAGE(over.body.find("options part") != std::string::npos, over.body);
    CHECK(empty_dir(uploads_of(s)));

    const auto nameless = s.api_request("POST", "/v1/jobs", form("music/", "{}"), type);
    CHECK(nameless.status == 422);
    CHECK_MESSAGE(nameless.body.find("no file name") != std::string::npos, nameless.body);
    const auto control = s.api_request("POST", "/v1/jobs", form("a\tb.wav", "{}"), type);
    CHECK(control.status == 422);
    CHECK_MESSAGE(control.body.find("control character") != std::string::npos, control.body);
    CHECK(empty_dir(uploads_of(s)));
    CHECK(http_request(s.api_port(), "GET", "/healthz").status == 200);
}

TEST_CASE("audio_file is refused without api.file_roots") {
    stack s("upload-no-roots");
    s.start_simulator();
    s.start_serve();
    const auto song = s.ws().write("input/song.wav", std::string(1024, 'x'));
    auto [status, answer] = s.submit(R"({"audio_file":")" + song.string() + R"("})");
    CHECK(status == 422);
    CHECK(str(answer, "error").find("api.file_roots") != std::string::npos);
    auto stats = s.simulator_get("/sim/stats").second;
    CHECK(stats.at("submissions").to_number<std::uint64_t>() == 0);
}

TEST_CASE("audio_file beneath api.file_roots: regular files only, no links, no escapes") {
    workspace outside("upload-outside");
    const auto secret = outside.write("secret.txt", "not for MusicGPT");
    workspace roots("upload-root");
    const fs::path root = roots.path();
    stack s("upload-roots", with_root("file_roots = [" + quoted(root) + "]\n"));
    s.start_simulator();
    s.start_serve();

    const auto song = roots.write("sub/song.wav", std::string(4096, 'y'));
    auto [status, created] = s.submit(R"({"audio_file":")" + song.string() + R"("})");
    REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
    s.wait_for(str(created, "id"), "completed");
    auto stats = s.simulator_get("/sim/stats").second;
    CHECK(str(stats, "last_upload_sha256") == sha256_hex(std::string(4096, 'y')));

    auto refused = [&](const std::string& path, const std::string& phrase) {
        CAPTURE(path);
        auto [code, answer] = s.submit(json::serialize(json::object{{"audio_file", path}}));
        CHECK(code == 422);
        CHECK_MESSAGE(str(answer, "error").find(phrase) != std::string::npos, str(answer, "error"));
    };
    fs::create_symlink(secret, root / "link.wav");
    refused((root / "link.wav").string(), "symbolic link");
    fs::create_directory_symlink(outside.path(), root / "dirlink");
    refused((root / "dirlink" / "secret.txt").string(), "symbolic link");
    refused((root / "sub" / ".." / ".." / "etc" / "passwd").string(), "\"..\"");
    refused(s.database().string(), "not beneath a folder of api.file_roots");
    refused(secret.string(), "not beneath");
    refused((root / "sub").string(), "a folder");
    roots.write("empty.wav", "");
    refused((root / "empty.wav").string(), "is empty");

    // A FIFO with no writer: refused, and stemd neither waits in open(2) for
    // a writer nor keeps it open (a writer's non-blocking open fails with
    // ENXIO only when no reader has the FIFO open).
    REQUIRE(::mkfifo((root / "fifo.wav").c_str(), 0600) == 0);
    refused((root / "fifo.wav").string(), "a FIFO");
    const int writer = ::open((root / "fifo.wav").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    const int open_error = errno;
    if (writer >= 0)
        ::close(writer);
    CHECK_MESSAGE(writer < 0, "stemd holds the FIFO open for reading");
    CHECK(open_error == ENXIO);
    CHECK(http_request(s.api_port(), "GET", "/healthz").status == 200);
    stats = s.simulator_get("/sim/stats").second;
    CHECK(stats.at("submissions").to_number<std::uint64_t>() == 1);
}

TEST_CASE("a device beneath api.file_roots is refused") {
    stack s("upload-device", with_root("file_roots = [\"/dev\"]\n"));
    s.start_simulator();
    s.start_serve();
    auto [status, answer] = s.submit(R"({"audio_file":"/dev/zero"})");
    CHECK(status == 422);
    CHECK_MESSAGE(str(answer, "error").find("a device") != std::string::npos, str(answer, "error"));
    CHECK(http_request(s.api_port(), "GET", "/healthz").status == 200);
}
