// GET <file href>/waveform against the real daemon: the simulator's stems
// are WAV files of known samples, so the peaks can be checked against the
// bytes on disk, read here without stemd's code.

#include "integration/stack.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>

namespace json = boost::json;
using namespace stemd::test;
using namespace std::chrono_literals;

namespace {

// Peaks of a 16-bit mono WAV with a 44-byte header (the simulator's), in
// `points` buckets of frames [b*F/N, (b+1)*F/N).
std::vector<double> reference_peaks(const std::string& wav, std::size_t points) {
    const std::size_t frames = (wav.size() - 44) / 2;
    std::vector<double> peaks(points, 0.0);
    for (std::size_t f = 0; f < frames; ++f) {
        const auto lo = static_cast<unsigned char>(wav[44 + 2 * f]);
        const auto hi = static_cast<unsigned char>(wav[45 + 2 * f]);
        const auto s = static_cast<std::int16_t>(static_cast<std::uint16_t>(lo | hi << 8));
        auto& p = peaks[f * points / frames];
        p = std::max(p, std::abs(double(s)) / 32768.0);
    }
    return peaks;
}

std::string waveform_target(const json::value& file, const std::string& query) {
    return str(file, "href") + "/waveform" + query;
}

} // namespace

TEST_CASE("a completed stem's waveform holds the peaks of its samples") {
    stack s("waveform");
    s.start_simulator();
    s.start_serve();
    auto [status, created] =
        s.submit(R"({"audio_url":"https://songs.example/track.mp3","stems":["vocals"]})");
    REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
    auto job = s.wait_for(str(created, "id"), "completed");
    const auto& file = only_file(job);
    const std::string wav = read_file(str(file, "path"));

    auto answer = s.api_request("GET", waveform_target(file, "?points=32"));
    REQUIRE_MESSAGE(answer.status == 200, answer.body << s.logs());
    CHECK(answer.body.find('E') == std::string::npos); // no exponent form
    auto w = json::parse(answer.body);
    CHECK(w.at("ok").as_bool());
    CHECK(w.at("points").as_int64() == 32);
    CHECK(w.at("sample_rate").as_int64() == 44100);
    CHECK(w.at("channels").as_int64() == 1);
    const double frames = double(wav.size() - 44) / 2;
    CHECK(w.at("seconds").to_number<double>() == doctest::Approx(frames / 44100).epsilon(0.001));
    const auto& peaks = w.at("peaks").as_array();
    REQUIRE(peaks.size() == 32);
    const auto expected = reference_peaks(wav, 32);
    for (std::size_t i = 0; i < 32; ++i) {
        CAPTURE(i);
        CHECK(peaks[i].to_number<double>() > 0.0);
        CHECK(std::fabs(peaks[i].to_number<double>() - expected[i]) < 1e-4);
    }

    // The default is 800 points.
    auto dflt = s.api_request("GET", waveform_target(file, ""));
    REQUIRE(dflt.status == 200);
    CHECK(json::parse(dflt.body).at("peaks").as_array().size() == 800);

    // Points out of range or not a number: 400 naming the value.
    for (const std::string bad : {"15", "4097", "abc", "-1", ""}) {
        auto refused = s.api_request("GET", waveform_target(file, "?points=" + bad));
        CHECK_MESSAGE(refused.status == 400, bad);
        CHECK(refused.body.find("\\\"" + bad + "\\\"") != std::string::npos);
    }
    CHECK(s.api_request("GET", waveform_target(file, "?pionts=32")).status == 400);
    // The token is needed.
    CHECK(http_request(s.api_port(), "GET", waveform_target(file, "")).status == 401);
    // Unknown job or file: 404.
    CHECK(s.api_request("GET", "/v1/jobs/no-such-job/files/vocals/waveform").status == 404);
    auto id = str(job, "id");
    CHECK(s.api_request("GET", "/v1/jobs/" + id + "/files/nothing/waveform").status == 404);
    CHECK(s.api_request("POST", waveform_target(file, "")).status == 405);

    // The file replaced on disk by text of the same size: what cannot be
    // decoded is 415 (the page then draws no waveform). The 32-point picture
    // made before stays cached under the recorded SHA-256.
    write_file(str(file, "path"), std::string(wav.size(), 't'));
    auto text = s.api_request("GET", waveform_target(file, "?points=64"));
    CHECK_MESSAGE(text.status == 415, text.body);
    CHECK(text.body.find("neither WAV nor MP3") != std::string::npos);
    CHECK(s.api_request("GET", waveform_target(file, "?points=32")).body == answer.body);
}

TEST_CASE("a stem still downloading has no waveform yet: 409") {
    // 128 KiB at 32 KiB/s: four seconds of downloading.
    stack s("waveform-early", {.stem_bytes = 128 * 1024, .rate = 32 * 1024});
    s.start_simulator();
    s.start_serve();
    auto [status, created] =
        s.submit(R"({"audio_url":"https://songs.example/track.mp3","stems":["vocals"]})");
    REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
    const std::string id = str(created, "id");
    json::value job;
    REQUIRE(wait_until(
        [&] {
            job = s.job(id);
            return job.at("files").as_array().size() == 1;
        },
        20s));
    auto early = s.api_request("GET", waveform_target(only_file(job), ""));
    CHECK_MESSAGE(early.status == 409, early.body);
    job = s.wait_for(id, "completed");
    CHECK(s.api_request("GET", waveform_target(only_file(job), "")).status == 200);
}
