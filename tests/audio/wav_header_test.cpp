#include "audio/wav_header.hpp"

#include "audio/error.hpp"
#include "wav_builder.hpp"

#include <doctest/doctest.h>

#include <string>

namespace stemd::audio {

namespace {

using test::chunk;
using test::fmt_body;
using test::fmt_spec;
using test::riff;

result<wav_layout> parse(const std::string& file) {
    return parse_wav_header(
        std::span(reinterpret_cast<const unsigned char*>(file.data()), file.size()));
}

bool refused_as(const std::string& file, error code) {
    auto r = parse(file);
    return !r && r.error().code == code;
}

} // namespace

TEST_CASE("each sample format's layout is read from its fmt chunk") {
    struct row {
        fmt_spec f;
        sample_format format;
    };
    const row rows[] = {
        {{.code = 1, .channels = 1, .rate = 8000, .bits = 8}, sample_format::pcm},
        {{.code = 1, .channels = 2, .rate = 44100, .bits = 16}, sample_format::pcm},
        {{.code = 1, .channels = 2, .rate = 48000, .bits = 24}, sample_format::pcm},
        {{.code = 1, .channels = 1, .rate = 96000, .bits = 32}, sample_format::pcm},
        {{.code = 3, .channels = 2, .rate = 44100, .bits = 32}, sample_format::ieee_float},
        {{.code = 0xfffe, .channels = 2, .rate = 48000, .bits = 24, .sub_code = 1},
         sample_format::pcm},
        {{.code = 0xfffe, .channels = 1, .rate = 22050, .bits = 32, .sub_code = 3},
         sample_format::ieee_float},
    };
    for (const auto& [f, format] : rows) {
        CAPTURE(f.code);
        CAPTURE(f.bits);
        const std::string data(std::size_t(f.channels * f.bits / 8 * 10), '\0');
        auto w = parse(test::wav(f, data));
        REQUIRE(w.has_value());
        CHECK(w->format == format);
        CHECK(w->bits == f.bits);
        CHECK(w->channels == f.channels);
        CHECK(w->sample_rate == f.rate);
        CHECK(w->frame_bytes == f.channels * f.bits / 8);
        CHECK(w->data_bytes == data.size());
        CHECK(w->data_offset == 12 + 8 + fmt_body(f).size() + 8);
    }
}

TEST_CASE("chunks come in any order, odd sizes padded") {
    const fmt_spec f{.channels = 1, .bits = 16};
    const std::string data(20, '\x01');
    // An odd LIST chunk first, then data before fmt, then a trailing chunk.
    const std::string file = riff(chunk("LIST", std::string(7, 'x')) + chunk("data", data) +
                                  chunk("fmt ", fmt_body(f)) + chunk("junk", "abc"));
    auto w = parse(file);
    REQUIRE(w.has_value());
    CHECK(w->data_offset == 12 + 8 + 8 + 8);
    CHECK(w->data_bytes == 20);
    CHECK(w->sample_rate == 8000);
}

TEST_CASE("a data chunk that claims more than the file holds is cut at the file's end") {
    const fmt_spec f{.channels = 2, .bits = 16};
    std::string file =
        riff(chunk("fmt ", fmt_body(f)) + chunk("data", std::string(4 * 10 + 3, 'a'), false));
    // Size field of data: say 0xfffffff0 bytes.
    const auto at = file.find("data") + 4;
    file.replace(at, 4, std::string("\xf0\xff\xff\xff", 4));
    auto w = parse(file);
    REQUIRE(w.has_value());
    CHECK(w->data_bytes == 40); // 43 bytes there, whole 4-byte frames only
}

TEST_CASE("every truncation of a header is an error or a layout within the bytes") {
    const std::string file =
        riff(chunk("LIST", "abcd") +
             chunk("fmt ", fmt_body({.code = 0xfffe, .channels = 2, .bits = 24})) +
             chunk("data", std::string(60, 'z')));
    for (std::size_t n = 0; n < file.size(); ++n) {
        CAPTURE(n);
        auto w = parse(file.substr(0, n));
        if (w)
            CHECK(w->data_offset + w->data_bytes <= n);
        else
            CHECK((w.error().code == error::malformed || w.error().code == error::unsupported));
    }
}

TEST_CASE("malformed headers are refused with a reason") {
    CHECK(refused_as(riff(chunk("data", "abcd")), error::malformed));       // no fmt
    CHECK(refused_as(riff(chunk("fmt ", fmt_body({}))), error::malformed)); // no data
    CHECK(refused_as(test::wav({.channels = 0}, "ab"), error::malformed));
    CHECK(refused_as(test::wav({.rate = 0}, "ab"), error::malformed));
    CHECK(refused_as(test::wav({.channels = 65535}, "ab"), error::malformed));
    CHECK(refused_as(test::wav({.rate = 0xffffffff}, "ab"), error::malformed));
    CHECK(refused_as(riff(chunk("fmt ", fmt_body({}).substr(0, 14)) + chunk("data", "ab")),
                     error::malformed));
    // A block size that disagrees with channels and bits.
    std::string odd = fmt_body({.channels = 2, .bits = 16});
    odd[12] = 3;
    CHECK(refused_as(riff(chunk("fmt ", odd) + chunk("data", "abcd")), error::malformed));
    // Extensible without its extension.
    CHECK(refused_as(
        riff(chunk("fmt ", fmt_body({.code = 0xfffe}).substr(0, 18)) + chunk("data", "ab")),
        error::malformed));
}

TEST_CASE("formats stemd does not decode are unsupported, not malformed") {
    CHECK(refused_as("not a wav file at all", error::unsupported));
    CHECK(refused_as("RIFF\x04\x00\x00\x00AVI LIST", error::unsupported));
    CHECK(refused_as(test::wav({.code = 2}, "ab"), error::unsupported)); // ADPCM
    CHECK(refused_as(test::wav({.code = 1, .bits = 12}, "ab"), error::unsupported));
    CHECK(refused_as(test::wav({.code = 3, .bits = 64}, std::string(8, '\0')), error::unsupported));
    std::string guid = fmt_body({.code = 0xfffe, .sub_code = 1});
    guid.back() = 0x72;
    CHECK(refused_as(riff(chunk("fmt ", guid) + chunk("data", "ab")), error::unsupported));
}

TEST_CASE("hostile chunk sizes cost nothing") {
    // A chunk claiming 4 GiB before fmt: the walk jumps past the file's end.
    std::string file = riff(chunk("junk", "") + chunk("fmt ", fmt_body({})) + chunk("data", "ab"));
    file.replace(16, 4, std::string("\xff\xff\xff\xff", 4));
    CHECK(refused_as(file, error::malformed));
    // A fmt chunk claiming 4 GiB is read only as far as a fmt can go.
    std::string big = riff(chunk("fmt ", fmt_body({})));
    big.replace(16, 4, std::string("\xff\xff\xff\xff", 4));
    CHECK(refused_as(big, error::malformed));
    // Endless empty chunks: the walk stops after max_chunks.
    std::string many;
    for (unsigned i = 0; i < max_chunks + 10; ++i)
        many += chunk("pad ", "");
    CHECK(refused_as(riff(many + chunk("fmt ", fmt_body({})) + chunk("data", "ab")),
                     error::malformed));
}

} // namespace stemd::audio
