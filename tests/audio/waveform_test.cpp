#include "audio/waveform.hpp"

#include "audio/error.hpp"
#include "common/posix_file.hpp"
#include "tests/support/workspace.hpp"
#include "wav_builder.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/resource.h>

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

namespace stemd::audio {

namespace {

// One second at 8 kHz of a 100 Hz sine whose amplitude steps up with each
// sixteenth: 0.05, 0.10, ... 0.80. Each sixteenth holds whole periods, so
// sin() reaches exactly 1 in each: the peaks are the amplitudes.
std::vector<double> stepped_sine() {
    std::vector<double> v(8000);
    for (std::size_t n = 0; n < v.size(); ++n) {
        const double amplitude = 0.05 * double(n / 500 + 1);
        v[n] = amplitude * std::sin(2 * std::numbers::pi * 100.0 * double(n) / 8000.0);
    }
    return v;
}

result<waveform> decode_text(const std::string& bytes, int points) {
    test::workspace ws("audio");
    return decode_waveform(ws.write("in.bin", bytes), points);
}

void check_stepped(const result<waveform>& w, double tolerance) {
    REQUIRE(w.has_value());
    REQUIRE(w->peaks.size() == 16);
    for (std::size_t k = 0; k < 16; ++k) {
        CAPTURE(k);
        CHECK(std::fabs(w->peaks[k] - 0.05 * double(k + 1)) <= tolerance);
    }
    CHECK(w->seconds == doctest::Approx(1.0));
    CHECK(w->sample_rate == 8000);
}

} // namespace

TEST_CASE("the peaks of a sine are its amplitudes, in every integer sample size") {
    for (int bits : {8, 16, 24, 32}) {
        CAPTURE(bits);
        const auto file =
            test::wav({.code = 1, .channels = 1, .rate = 8000, .bits = std::uint16_t(bits)},
                      test::int_samples(stepped_sine(), bits));
        check_stepped(decode_text(file, 16), 1.0 / double(1 << std::min(bits - 1, 20)) + 1e-6);
    }
}

TEST_CASE("float and EXTENSIBLE files decode to the same peaks") {
    std::vector<float> values;
    for (double v : stepped_sine())
        values.push_back(float(v));
    check_stepped(decode_text(test::wav({.code = 3, .bits = 32}, test::float_samples(values)), 16),
                  1e-6);
    check_stepped(decode_text(test::wav({.code = 0xfffe, .bits = 32, .sub_code = 3},
                                        test::float_samples(values)),
                              16),
                  1e-6);
    check_stepped(decode_text(test::wav({.code = 0xfffe, .bits = 24, .sub_code = 1},
                                        test::int_samples(stepped_sine(), 24)),
                              16),
                  1e-6);
}

TEST_CASE("stereo: each bucket is the louder channel") {
    // Left loud in the first half, right loud in the second.
    std::vector<double> interleaved;
    for (int n = 0; n < 1000; ++n) {
        const bool first = n < 500;
        interleaved.push_back(first ? 0.5 : 0.125);
        interleaved.push_back(first ? -0.25 : -0.75);
    }
    auto w =
        decode_text(test::wav({.channels = 2, .bits = 16}, test::int_samples(interleaved, 16)), 2);
    REQUIRE(w.has_value());
    CHECK(w->channels == 2);
    CHECK(w->peaks == std::vector<float>{0.5f, 0.75f});
    CHECK(w->seconds == doctest::Approx(1000.0 / 8000.0));
}

TEST_CASE("more points than frames still gives every point") {
    auto w = decode_text(test::wav({.bits = 16}, test::int_samples({0.5, -1.0, 0.25}, 16)), 100);
    REQUIRE(w.has_value());
    REQUIRE(w->peaks.size() == 100);
    CHECK(w->peaks.front() == 0.5f);
    CHECK(w->peaks[50] == 1.0f);
    CHECK(w->peaks.back() == 0.25f);
}

TEST_CASE("an empty data chunk gives silent points and no length") {
    auto w = decode_text(test::wav({.bits = 16}, ""), 16);
    REQUIRE(w.has_value());
    CHECK(w->peaks == std::vector<float>(16, 0.0f));
    CHECK(w->seconds == 0.0);
}

TEST_CASE("bytes of another format are unsupported, judged by the bytes not the name") {
    for (const std::string& bytes :
         {std::string("just some text, not audio\n"), std::string(),
          std::string("OggS\0\0\0\0\0\0\0\0", 12), std::string("fLaC\0\0\0\x22", 8)}) {
        auto w = decode_text(bytes, 16);
        REQUIRE_FALSE(w.has_value());
        CHECK(w.error().code == error::unsupported);
        CHECK(w.error().message.find("neither WAV nor MP3") != std::string::npos);
    }
}

TEST_CASE("the point count is bounded") {
    const auto file = test::wav({.bits = 16}, test::int_samples({0.5}, 16));
    for (int points : {0, -1, max_points + 1}) {
        auto w = decode_text(file, points);
        REQUIRE_FALSE(w.has_value());
        CHECK(w.error().code == error::bad_points);
    }
}

TEST_CASE("a file that cannot be opened is unreadable") {
    auto w = decode_waveform(std::filesystem::path("/nonexistent/stemd/audio.wav"), 16);
    REQUIRE_FALSE(w.has_value());
    CHECK(w.error().code == error::unreadable);
}

TEST_CASE("sniffing") {
    using namespace std::string_view_literals;
    auto bytes = [](std::string_view s) {
        return std::span(reinterpret_cast<const unsigned char*>(s.data()), s.size());
    };
    CHECK(sniff(bytes("RIFF\0\0\0\0WAVE"sv)) == container::wav);
    CHECK(sniff(bytes("ID3\x04"sv)) == container::mp3);
    CHECK(sniff(bytes("\xff\xfb\x90\x64"sv)) == container::mp3);     // MPEG-1 layer III 128k 44.1k
    CHECK(sniff(bytes("\xff\xfb\xf0\x64"sv)) == container::unknown); // bitrate index 15
    CHECK(sniff(bytes("\xff\xf9\x90\x64"sv)) == container::unknown); // reserved layer
    CHECK(sniff(bytes("RIFF"sv)) == container::unknown);
}

// Ten minutes of 44.1 kHz 16-bit stereo (106 MB) decoded in a process whose
// peak resident size may grow by far less than the file: reading it whole
// (or keeping a value per frame) would show here.
TEST_CASE("a ten-minute stereo WAV decodes in bounded memory") {
    test::workspace ws("audio-long");
    const auto path = ws / "long.wav";
    constexpr std::uint64_t frames = 600ull * 44100;
    {
        unique_fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        REQUIRE(fd);
        std::string head = test::wav({.channels = 2, .rate = 44100, .bits = 16}, "");
        head.replace(head.size() - 4, 4, std::string("\x00\x00\x00\x00", 4));
        const std::uint64_t data = frames * 4;
        for (int i = 0; i < 4; ++i)
            head[head.size() - 4 + i] = char((data >> (8 * i)) & 0xff);
        REQUIRE(write_all(fd.get(), head.data(), head.size()));
        // One second of a full-scale square-ish pattern, written 600 times.
        std::string second = test::int_samples(std::vector<double>(2 * 44100, 0.5), 16);
        second[second.size() / 2] = 0x00;
        second[second.size() / 2 + 1] = char(0x80); // one sample at -1.0 per second
        for (int s = 0; s < 600; ++s)
            REQUIRE(write_all(fd.get(), second.data(), second.size()));
    }
    rusage before{};
    ::getrusage(RUSAGE_SELF, &before);
    auto w = decode_waveform(path, 800);
    rusage after{};
    ::getrusage(RUSAGE_SELF, &after);
    REQUIRE(w.has_value());
    CHECK(w->seconds == doctest::Approx(600.0));
    CHECK(w->channels == 2);
    CHECK(w->peaks.size() == 800);
    // Every bucket spans 0.75 s, so most hold a -1.0 sample; none is silent.
    CHECK(*std::min_element(w->peaks.begin(), w->peaks.end()) >= 0.5f);
    CHECK(*std::max_element(w->peaks.begin(), w->peaks.end()) == 1.0f);
    const long grown_kib = after.ru_maxrss - before.ru_maxrss;
    MESSAGE("peak RSS grew by " << grown_kib << " KiB while decoding a 106 MB file");
    CHECK(grown_kib < 8 * 1024);
}

} // namespace stemd::audio
