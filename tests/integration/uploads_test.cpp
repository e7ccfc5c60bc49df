// Files reach MusicGPT as bytes a client uploads, or, for the JSON field
// audio_file, only from beneath api.file_roots: stemd does not open
// whatever path a client names.

#include "integration/stack.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>

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

} // namespace

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
    auto a = http_request(s.api_port(), "POST", "/v1/jobs", body,
                          "multipart/form-data; boundary=" + boundary);
    CHECK(a.status == 413);
    CHECK(a.body.find("too large") != std::string::npos);
    CHECK(empty_dir(uploads_of(s)));

    // Below the cap the same form is taken; the JSON route keeps its own
    // (smaller) limit, so the cap applies to uploads only.
    const std::string small = "--" + boundary +
                              "\r\nContent-Disposition: form-data; name=\"audio_file\"; "
                              "filename=\"a.wav\"\r\n\r\n" +
                              std::string(1024, 'x') + "\r\n--" + boundary + "--\r\n";
    auto ok = http_request(s.api_port(), "POST", "/v1/jobs", small,
                           "multipart/form-data; boundary=" + boundary);
    CHECK_MESSAGE(ok.status == 201, ok.body << s.logs());
    CHECK(empty_dir(uploads_of(s)));
    auto other = http_request(s.api_port(), "POST", "/v1/jobs/x/retry", std::string(8192, 'x'),
                              "multipart/form-data; boundary=" + boundary);
    CHECK(other.status != 201);
    CHECK(empty_dir(uploads_of(s)));
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

    // A FIFO with no writer: refused at once, the daemon still answers.
    REQUIRE(::mkfifo((root / "fifo.wav").c_str(), 0600) == 0);
    const auto before = std::chrono::steady_clock::now();
    refused((root / "fifo.wav").string(), "a FIFO");
    CHECK(std::chrono::steady_clock::now() - before < 5s);
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
