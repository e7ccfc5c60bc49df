// Decodes one file to a waveform with audio/ and prints the seconds it took
// and the process's peak resident size; or writes the test WAV the bench
// decodes. Built by bench/waveform.sh, not by the project's CMake.
//
//   waveform_bench decode FILE POINTS
//   waveform_bench make-wav FILE SECONDS   (44.1 kHz 16-bit stereo)

#include "audio/waveform.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <numbers>
#include <string>
#include <vector>

namespace {

long peak_rss_kib() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmHWM:", 0) == 0)
            return std::atol(line.c_str() + 6);
    return -1;
}

void put_le(std::ofstream& out, std::uint32_t v, int width) {
    for (int i = 0; i < width; ++i)
        out.put(char((v >> (8 * i)) & 0xff));
}

// A chord of three sines whose loudness swells over each ten seconds.
int make_wav(const char* path, int seconds) {
    std::ofstream out(path, std::ios::binary);
    const std::uint32_t rate = 44100, frames = rate * std::uint32_t(seconds);
    out.write("RIFF", 4);
    put_le(out, 36 + frames * 4, 4);
    out.write("WAVEfmt ", 8);
    for (auto [v, w] :
         {std::pair{16u, 4}, {1u, 2}, {2u, 2}, {rate, 4}, {rate * 4, 4}, {4u, 2}, {16u, 2}})
        put_le(out, v, w);
    out.write("data", 4);
    put_le(out, frames * 4, 4);
    std::vector<char> block;
    for (std::uint32_t n = 0; n < frames; ++n) {
        const double t = double(n) / rate;
        const double swell = 0.3 + 0.3 * std::sin(2 * std::numbers::pi * t / 10);
        const double s = swell *
                         (std::sin(2 * std::numbers::pi * 220 * t) +
                          0.5 * std::sin(2 * std::numbers::pi * 277 * t) +
                          0.3 * std::sin(2 * std::numbers::pi * 330 * t)) /
                         1.8;
        const auto left = std::int16_t(s * 32767), right = std::int16_t(-s * 32767 * 0.8);
        for (auto v : {left, right}) {
            block.push_back(char(v & 0xff));
            block.push_back(char((v >> 8) & 0xff));
        }
        if (block.size() >= 65536) {
            out.write(block.data(), std::streamsize(block.size()));
            block.clear();
        }
    }
    out.write(block.data(), std::streamsize(block.size()));
    return out ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    const std::string mode = argc == 4 ? argv[1] : "";
    if (mode == "make-wav")
        return make_wav(argv[2], std::atoi(argv[3]));
    if (mode != "decode") {
        std::fprintf(stderr, "usage: waveform_bench decode FILE POINTS | make-wav FILE SECONDS\n");
        return 2;
    }
    const auto start = std::chrono::steady_clock::now();
    auto w = stemd::audio::decode_waveform(std::filesystem::path(argv[2]), std::atoi(argv[3]));
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    if (!w) {
        std::fprintf(stderr, "%s: %s\n", argv[2], w.error().message.c_str());
        return 1;
    }
    std::printf("%.3f %ld %.2f\n", took.count(), peak_rss_kib(), w->seconds);
    return 0;
}
