#pragma once

// WAV files written by the tests themselves, byte by byte, so each case
// states exactly what the decoder must make of it.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace stemd::test {

inline void put_le(std::string& out, std::uint64_t v, int width) {
    for (int i = 0; i < width; ++i)
        out.push_back(char((v >> (8 * i)) & 0xff));
}

inline std::string chunk(std::string_view id, const std::string& body, bool pad = true) {
    std::string out(id);
    put_le(out, body.size(), 4);
    out += body;
    if (pad && body.size() % 2 == 1)
        out.push_back('\0');
    return out;
}

struct fmt_spec {
    std::uint16_t code = 1; // 1 PCM, 3 float, 0xfffe extensible
    std::uint16_t channels = 1;
    std::uint32_t rate = 8000;
    std::uint16_t bits = 16;
    std::uint16_t sub_code = 1; // inside an extensible fmt
};

inline std::string fmt_body(const fmt_spec& f) {
    std::string b;
    put_le(b, f.code, 2);
    put_le(b, f.channels, 2);
    put_le(b, f.rate, 4);
    put_le(b, std::uint64_t(f.rate) * f.channels * (f.bits / 8), 4);
    put_le(b, f.channels * (f.bits / 8), 2);
    put_le(b, f.bits, 2);
    if (f.code == 0xfffe) {
        put_le(b, 22, 2);
        put_le(b, f.bits, 2);
        put_le(b, f.channels == 2 ? 3 : 4, 4);
        put_le(b, f.sub_code, 2);
        b += std::string("\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71", 14);
    }
    return b;
}

// RIFF/WAVE around `chunks`, its size field right.
inline std::string riff(const std::string& chunks) {
    std::string out = "RIFF";
    put_le(out, chunks.size() + 4, 4);
    return out + "WAVE" + chunks;
}

inline std::string wav(const fmt_spec& f, const std::string& data) {
    return riff(chunk("fmt ", fmt_body(f)) + chunk("data", data));
}

// Little-endian integer samples of `bits`, from values in -1..1 (scaled
// by 2^(bits-1), clipped); 8-bit is unsigned with 128 for silence.
inline std::string int_samples(const std::vector<double>& values, int bits) {
    std::string out;
    const double scale = double(std::uint64_t(1) << (bits - 1));
    for (double v : values) {
        auto s = std::int64_t(v * scale);
        s = std::min<std::int64_t>(std::max<std::int64_t>(s, -std::int64_t(scale)),
                                   std::int64_t(scale) - 1);
        if (bits == 8)
            out.push_back(char(s + 128));
        else
            put_le(out, std::uint64_t(s), bits / 8);
    }
    return out;
}

inline std::string float_samples(const std::vector<float>& values) {
    std::string out;
    for (float v : values) {
        std::uint32_t bits = 0;
        std::memcpy(&bits, &v, 4);
        put_le(out, bits, 4);
    }
    return out;
}

} // namespace stemd::test
