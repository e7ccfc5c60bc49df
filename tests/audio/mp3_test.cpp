#include "audio/waveform.hpp"

#include "audio/error.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/workspace.hpp"
#include "wav_builder.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numbers>

namespace stemd::audio {

namespace {

// MP3s are made by lame at test time; without it these cases cannot run
// and say so (77 is the runner's SKIP_RETURN_CODE) instead of passing.
void require_lame() {
    if (std::system("command -v lame >/dev/null 2>&1") != 0) {
        std::fprintf(stderr, "SKIPPED: lame is not installed (.ci/install-deps installs it)\n");
        std::_Exit(77);
    }
}

// Two seconds of 44.1 kHz stereo: a 441 Hz sine at 0.5 on the left, at
// 0.25 on the right.
std::string two_second_sine() {
    std::vector<double> v;
    for (int n = 0; n < 2 * 44100; ++n) {
        const double s = std::sin(2 * std::numbers::pi * 441.0 * n / 44100.0);
        v.push_back(0.5 * s);
        v.push_back(0.25 * s);
    }
    return test::wav({.channels = 2, .rate = 44100, .bits = 16}, test::int_samples(v, 16));
}

std::filesystem::path encode(const test::workspace& ws, const std::vector<std::string>& extra) {
    const auto wav = ws.write("sine.wav", two_second_sine());
    const auto mp3 = ws / "sine.mp3";
    std::vector<std::string> args{"/usr/bin/env", "lame", "--quiet", "-b", "192"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(wav.string());
    args.push_back(mp3.string());
    auto done = test::run(args, std::chrono::seconds(60));
    REQUIRE_MESSAGE(done.exit_code == 0, done.err);
    return mp3;
}

void check_sine(const result<waveform>& w) {
    REQUIRE_MESSAGE(w.has_value(), (w ? std::string() : w.error().message));
    CHECK(w->sample_rate == 44100);
    CHECK(w->channels == 2);
    // lame's LAME tag lets libmpg123 drop the encoder's padding.
    CHECK(w->seconds == doctest::Approx(2.0).epsilon(0.02));
    REQUIRE(w->peaks.size() == 64);
    // The louder channel is 0.5; a 192 kbit/s encoding keeps it close.
    for (std::size_t k = 2; k + 2 < w->peaks.size(); ++k) {
        CAPTURE(k);
        CHECK(w->peaks[k] > 0.45f);
        CHECK(w->peaks[k] < 0.56f);
    }
}

} // namespace

TEST_CASE("an MP3 made by lame decodes to the peaks of its sine") {
    require_lame();
    test::workspace ws("audio-mp3");
    const auto mp3 = encode(ws, {});
    CHECK(test::read_file(mp3).substr(0, 1) == "\xff"); // starts on a frame sync
    check_sine(decode_waveform(mp3, 64));
}

TEST_CASE("an MP3 behind an ID3v2 tag decodes the same") {
    require_lame();
    test::workspace ws("audio-id3");
    const auto mp3 = encode(ws, {"--id3v2-only", "--tt", "a sine"});
    CHECK(test::read_file(mp3).substr(0, 3) == "ID3");
    check_sine(decode_waveform(mp3, 64));
}

TEST_CASE("an ID3 tag followed by no MPEG audio is malformed, not a crash") {
    test::workspace ws("audio-badmp3");
    std::string bytes("ID3\x04\x00\x00\x00\x00\x00\x00", 10);
    bytes += std::string(4000, 'x');
    auto w = decode_waveform(ws.write("bad.mp3", bytes), 64);
    REQUIRE_FALSE(w.has_value());
    CHECK(w.error().code == error::malformed);
}

} // namespace stemd::audio
