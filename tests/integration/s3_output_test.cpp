// Stems stored in S3-compatible storage by the real daemon: the real s3rver
// (tests/support/s3_server.hpp) as the bucket, the real simulator as
// MusicGPT. Objects hold the simulator's bytes, the job records s3://
// paths, the file route redirects to a presigned URL, the waveform is drawn
// from a fetched copy, a crash mid-upload leaves nothing behind once the
// file is done, a wrong secret fails the file with S3's reason, and prune
// deletes the objects.

#include "integration/stack.hpp"
#include "simulator/stem_audio.hpp"
#include "support/s3_server.hpp"

#include <boost/json/parse.hpp>

#include <doctest/doctest.h>

#include <thread>

namespace json = boost::json;
using namespace stemd::test;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view prefix = "team/stems";

stack_options s3_options(const s3_server& s3, std::uint64_t stem_bytes, std::uint64_t rate = 0) {
    stack_options o;
    o.stem_bytes = stem_bytes;
    o.rate = rate;
    o.max_attempts = 3;
    o.output = "s3://" + s3.bucket() + "/" + std::string(prefix);
    o.s3_config = "endpoint = \"" + s3.endpoint() + "\"\nallow_http = true\n";
    o.extra_config = "[retention]\nkeep_days = 0\ndelete_files = true\n";
    return o;
}

serve_launch with_keys(const s3_server& s3, const std::string& secret) {
    serve_launch l;
    l.env["AWS_ACCESS_KEY_ID"] = s3.access_key();
    l.env["AWS_SECRET_ACCESS_KEY"] = secret;
    return l;
}

std::string submit_vocals(stack& s, const std::string& song) {
    auto [status, created] =
        s.submit(R"({"audio_url":"https://songs.example/)" + song + R"(.mp3","stems":["vocals"]})");
    REQUIRE(status == 201);
    return str(created, "id");
}

std::string header_of(const std::string& headers, std::string name) {
    std::string lower = headers;
    for (char& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    name = "\r\n" + name + ":";
    const auto at = ("\r\n" + lower).find(name);
    if (at == std::string::npos)
        return {};
    auto start = at + name.size() - 2;
    const auto end = headers.find("\r\n", start);
    while (start < end && headers[start] == ' ')
        ++start;
    return headers.substr(start, end - start);
}

// GET of an http://127.0.0.1:port/... URL (where a redirect points).
http_answer get_url(const std::string& url, const std::string& extra = "") {
    const std::string head = "http://127.0.0.1:";
    REQUIRE(url.starts_with(head));
    const auto slash = url.find('/', head.size());
    const int port = std::stoi(url.substr(head.size(), slash - head.size()));
    return http_request(port, "GET", url.substr(slash), "", "application/json", extra);
}

// The object's bytes as s3rver serves them, through the presigned URL the
// file route redirects to; checks the redirect on the way.
std::string fetch_through_route(stack& s, const json::value& file) {
    const auto redirect = s.api_request("GET", str(file, "href"));
    REQUIRE_MESSAGE(redirect.status == 302, redirect.body << s.serve_logs());
    CHECK(header_of(redirect.headers, "cache-control") == "no-store");
    const std::string location = header_of(redirect.headers, "location");
    CHECK(location.find("X-Amz-Signature=") != std::string::npos);
    CHECK(location.find("X-Amz-Expires=900") != std::string::npos);
    const auto head = s.api_request("HEAD", str(file, "href"));
    CHECK(head.status == 302);
    CHECK(header_of(head.headers, "location").starts_with(location.substr(0, location.find('?'))));
    const auto object = get_url(location);
    REQUIRE_MESSAGE(object.status == 200, object.body);
    return object.body;
}

void check_object(stack& s, const json::value& job, const s3_server& s3, std::uint64_t bytes) {
    const auto& file = only_file(job);
    const std::string path = str(file, "path");
    const std::string task = str(job, "task_id");
    CAPTURE(path);
    const std::string head = "s3://" + s3.bucket() + "/" + std::string(prefix) + "/";
    CHECK(path.starts_with(head));
    CHECK(path.find(task) != std::string::npos);
    const std::string expected = stemd::simulator::stem_audio(task, "vocals", bytes);
    const std::string got = fetch_through_route(s, file);
    CHECK(got.size() == bytes);
    CHECK(got == expected);
    CHECK(file.at("bytes").to_number<std::uint64_t>() == bytes);
    CHECK(str(file, "sha256") == sha256_hex(expected));
    CHECK(s3.leftover_uploads().empty());
}

} // namespace

TEST_CASE("s3 output: stems become objects with their bytes, served by redirect, drawn, pruned") {
    s3_server::skip_unless_available();
    s3_server s3;
    // Over one 8 MiB part, so the upload has two.
    constexpr std::uint64_t bytes = (9u << 20) + 12345;
    stack s("s3-output", s3_options(s3, bytes));
    s.start_simulator();
    s.start_serve(with_keys(s3, s3.secret_key()));
    const auto id = submit_vocals(s, "one");
    const auto job = s.wait_for(id, "completed", 60s);
    INFO(s.serve_logs());
    check_object(s, job, s3, bytes);
    // Nothing of the stem on local disk.
    CHECK(files_under(s.output_dir()).empty());

    // Range and ETag are the object store's, through the same redirect.
    const auto& file = only_file(job);
    const auto location = header_of(s.api_request("GET", str(file, "href")).headers, "location");
    const auto range = get_url(location, "Range: bytes=100-199\r\n");
    CHECK(range.status == 206);
    CHECK(range.body ==
          stemd::simulator::stem_audio(str(job, "task_id"), "vocals", bytes).substr(100, 100));

    const auto wave = s.api_request("GET", str(file, "href") + "/waveform?points=32");
    REQUIRE_MESSAGE(wave.status == 200, wave.body);
    const auto peaks = json::parse(wave.body);
    CHECK(peaks.at("points").as_int64() == 32);
    CHECK(peaks.at("peaks").as_array().size() == 32);
    // The fetched copy is gone again.
    CHECK(files_under(s.database().parent_path() / "s3-fetch").empty());

    const auto pruned = s.cli({"prune", "--older-than", "0d", "--json"});
    INFO(pruned.out << pruned.err);
    REQUIRE(pruned.exit_code == 0);
    const auto summary = json::parse(pruned.out);
    CHECK(summary.at("jobs").as_int64() == 1);
    CHECK(summary.at("files_deleted").as_int64() == 1);
    const auto gone = get_url(location);
    CHECK(gone.status == 404);
}

TEST_CASE("s3 output: kill -9 mid-upload, then a restart completes the file and leaves no upload") {
    s3_server::skip_unless_available();
    s3_server s3;
    constexpr std::uint64_t bytes = 10u << 20;
    // 10 MiB at 2 MiB/s: five seconds in which to kill it.
    stack s("s3-crash", s3_options(s3, bytes, 2u << 20));
    s.start_simulator();
    s.start_serve(with_keys(s3, s3.secret_key()));
    const auto id = submit_vocals(s, "crash");
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (s3.leftover_uploads().empty() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(20ms);
    REQUIRE_MESSAGE(!s3.leftover_uploads().empty(), s.serve_logs());
    s.kill_serve();
    CHECK(s3.leftover_uploads().size() == 1); // what the dead process left
    s.start_serve(with_keys(s3, s3.secret_key()));
    const auto job = s.wait_for(id, "completed", 60s);
    INFO(s.serve_logs());
    check_object(s, job, s3, bytes);
    CHECK(s.serve_logs().find("aborted an unfinished upload") != std::string::npos);
}

TEST_CASE("s3 output: a wrong secret key fails the file with S3's reason") {
    s3_server::skip_unless_available();
    s3_server s3;
    stack s("s3-bad-key", s3_options(s3, 4096));
    s.start_simulator();
    s.start_serve(with_keys(s3, "not-the-secret-key"));
    const auto id = submit_vocals(s, "refused");
    const auto job = s.wait_for(id, "failed", 60s);
    INFO(s.serve_logs());
    const std::string error = str(only_file(job), "error");
    CHECK(error.find("SignatureDoesNotMatch") != std::string::npos);
    CHECK(error.find("not-the-secret-key") == std::string::npos);
    CHECK(str(job, "error").find("SignatureDoesNotMatch") != std::string::npos);
    CHECK(s3.leftover_uploads().empty());
}
