#include "cli/job_view.hpp"

#include <boost/json/parse.hpp>

#include <doctest/doctest.h>

#include <sstream>
#include <string>

namespace json = boost::json;
using stemd::cli::files_done;
using stemd::cli::is_final;
using stemd::cli::print_job;
using stemd::cli::print_raw;
using stemd::cli::show_job;
using stemd::cli::text_field;
using stemd::cli::unsigned_field;

namespace {

json::object object(const char* text) {
    return json::parse(text).as_object();
}

std::string view_of(const json::object& job) {
    std::ostringstream out;
    print_job(out, job);
    return out.str();
}

constexpr const char* downloading_job = R"({
  "id": "j_1", "status": "downloading", "task_id": "t1", "conversion_id": "c1",
  "upstream_status": "IN_\u001bPROGRESS",
  "audio_url": "https://x.example/a.mp3?token=secret",
  "stems": ["vocals", "drums"], "preprocessing_options": ["Denoise"], "eco_mode": true,
  "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:01:00Z",
  "eta": 147.0, "conversion_cost": 1.5, "credit_estimate": 2, "error": null,
  "files": [
    {"name": "vocals.wav", "status": "done", "bytes": 1536000,
     "sha256": "abcdef0123456789abcdef", "path": "/out/vocals.wav"},
    {"name": "drums.wav", "status": "failed", "bytes": 0, "attempts": 3, "error": "disk full"}
  ]})";

} // namespace

TEST_CASE("text_field shows strings, numbers and booleans, null and missing are empty") {
    const auto o = object(R"({"s": "a\tb", "d": 147.0, "i": -3, "b": false, "n": null,
                              "a": [1, "x"]})");
    CHECK(text_field(o, "s") == "a b");
    CHECK(text_field(o, "d") == "147");
    CHECK(text_field(o, "i") == "-3");
    CHECK(text_field(o, "b") == "no");
    CHECK(text_field(o, "n").empty());
    CHECK(text_field(o, "missing").empty());
    CHECK(text_field(o, "a") == R"([1,"x"])");
}

TEST_CASE("unsigned_field takes whole numbers of 0 or more only") {
    const auto o = object(R"({"u": 5, "neg": -1, "d": 1.5, "s": "5"})");
    CHECK(unsigned_field(o, "u") == 5u);
    CHECK_FALSE(unsigned_field(o, "neg"));
    CHECK_FALSE(unsigned_field(o, "d"));
    CHECK_FALSE(unsigned_field(o, "s"));
    CHECK_FALSE(unsigned_field(o, "missing"));
}

TEST_CASE("files_done counts the files that are done") {
    CHECK(files_done(object(downloading_job)) == "1/2");
    CHECK(files_done(object(R"({"files": []})")) == "0/0");
    CHECK(files_done(object("{}")) == "0/0");
}

TEST_CASE("completed and failed are final") {
    CHECK(is_final("completed"));
    CHECK(is_final("failed"));
    CHECK_FALSE(is_final("downloading"));
    CHECK_FALSE(is_final(""));
}

TEST_CASE("print_job shows details, a redacted source and the files table") {
    CHECK(view_of(object(downloading_job)) ==
          "job j_1  downloading\n"
          "  task id        t1\n"
          "  conversion id  c1\n"
          "  MusicGPT says  IN_ PROGRESS\n"
          "  source         https://x.example/a.mp3\n"
          "  stems          vocals, drums\n"
          "  preprocessing  Denoise\n"
          "  eco mode       yes\n"
          "  created        2024-01-01T00:00:00Z\n"
          "  updated        2024-01-01T00:01:00Z\n"
          "  eta            147 s\n"
          "  cost           1.5 credits (estimated 2)\n"
          "files: 1/2 done\n"
          "  STATUS  BYTES              SHA256        PATH\n"
          "  done    1536000 (1.5 MiB)  abcdef012345  /out/vocals.wav\n"
          "  failed  -                  -             drums.wav  (attempt 3: disk full)\n");
}

TEST_CASE("print_job of a final job: no eta, error and duration shown, files: none") {
    const auto job = object(R"({"id": "j_2", "status": "failed", "audio_file": "/in/a.mp3",
                                "eta": 30, "credit_estimate": 2, "conversion_duration": 12.5,
                                "error": "MusicGPT said no", "files": []})");
    CHECK(view_of(job) == "job j_2  failed\n"
                          "  source         /in/a.mp3\n"
                          "  cost           estimated 2 credits\n"
                          "  duration       12.5 s\n"
                          "  error          MusicGPT said no\n"
                          "files: none\n");
}

TEST_CASE("print_job of a job still on its way without files: files: none yet") {
    const auto view = view_of(object(R"({"id": "j_3", "status": "submitted", "eta": 60})"));
    CHECK(view == "job j_3  submitted\n"
                  "  eta            60 s\n"
                  "files: none yet\n");
}

TEST_CASE("--json prints the API's document unchanged, with one final newline") {
    std::ostringstream out;
    print_raw(out, R"({"a":1})");
    print_raw(out, "{}\n");
    print_raw(out, "");
    CHECK(out.str() == "{\"a\":1}\n{}\n\n");

    const std::string body = R"({"id": "j_4", "status": "completed"})";
    std::ostringstream as_json;
    std::ostringstream as_text;
    show_job(as_json, body, object(body.c_str()), true);
    show_job(as_text, body, object(body.c_str()), false);
    CHECK(as_json.str() == body + "\n");
    CHECK(as_text.str() == "job j_4  completed\nfiles: none\n");
}
