#include "audio/wav_header.hpp"

#include "audio/error.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace stemd::audio {

namespace {

constexpr std::uint16_t format_pcm = 0x0001;
constexpr std::uint16_t format_float = 0x0003;
constexpr std::uint16_t format_extensible = 0xfffe;
// The GUID of an EXTENSIBLE sub-format after its first two bytes (which
// hold the plain format code): {xxxx0000-0000-0010-8000-00AA00389B71}.
constexpr std::array<unsigned char, 14> guid_tail = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                                     0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71};

std::uint32_t le(std::span<const unsigned char> b, std::size_t at, std::size_t width) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < width; ++i)
        v |= std::uint32_t(b[at + i]) << (8 * i);
    return v;
}

bool tag_is(std::span<const unsigned char> b, std::size_t at, std::string_view tag) {
    return std::memcmp(b.data() + at, tag.data(), tag.size()) == 0;
}

stemd::error bad(std::string what) {
    return make_error(error::malformed, "the WAV file is damaged: " + what +
                                            "; export it again or convert it to 16-bit PCM");
}

stemd::error unsupported(std::string what) {
    return make_error(error::unsupported, "the WAV file holds " + what +
                                              ", which stemd does not decode; use PCM of 8, 16, "
                                              "24 or 32 bits or 32-bit float");
}

// Reads exactly out.size() bytes at `offset` or says the file ends early.
result<bool> read_exact(const read_at& read, std::uint64_t offset, std::span<unsigned char> out) {
    auto got = read(offset, out);
    if (!got)
        return got.error();
    return *got == out.size();
}

// The sample format the fmt chunk body `b` describes (its size checked).
result<wav_layout> read_fmt(std::span<const unsigned char> b) {
    if (b.size() < 16)
        return bad("its fmt chunk is " + std::to_string(b.size()) + " bytes, less than 16");
    std::uint16_t code = std::uint16_t(le(b, 0, 2));
    wav_layout w;
    w.channels = le(b, 2, 2);
    w.sample_rate = le(b, 4, 4);
    const unsigned block_align = le(b, 12, 2);
    w.bits = le(b, 14, 2);
    if (code == format_extensible) {
        if (b.size() < 40 || le(b, 16, 2) < 22)
            return bad("its WAVE_FORMAT_EXTENSIBLE fmt chunk is too short");
        if (!std::equal(guid_tail.begin(), guid_tail.end(), b.begin() + 26))
            return unsupported("an EXTENSIBLE sub-format that is neither PCM nor float");
        code = std::uint16_t(le(b, 24, 2));
    }
    if (code != format_pcm && code != format_float)
        return unsupported("format code " + std::to_string(code));
    w.format = code == format_pcm ? sample_format::pcm : sample_format::ieee_float;
    if (w.channels == 0 || w.channels > max_channels)
        return bad(std::to_string(w.channels) + " channels (1 to " + std::to_string(max_channels) +
                   " are possible)");
    if (w.sample_rate == 0 || w.sample_rate > max_sample_rate)
        return bad("a sample rate of " + std::to_string(w.sample_rate) + " Hz");
    const bool known = w.format == sample_format::pcm
                           ? (w.bits == 8 || w.bits == 16 || w.bits == 24 || w.bits == 32)
                           : w.bits == 32;
    if (!known)
        return unsupported(std::to_string(w.bits) + "-bit " +
                           (w.format == sample_format::pcm ? "PCM" : "float") + " samples");
    w.frame_bytes = w.channels * (w.bits / 8);
    if (block_align != w.frame_bytes)
        return bad("a block size of " + std::to_string(block_align) + " bytes where " +
                   std::to_string(w.channels) + " channels of " + std::to_string(w.bits) +
                   " bits take " + std::to_string(w.frame_bytes));
    return w;
}

} // namespace

result<wav_layout> parse_wav_header(const read_at& read, std::uint64_t file_size) {
    std::array<unsigned char, 12> riff{};
    auto whole = read_exact(read, 0, riff);
    if (!whole)
        return whole.error();
    if (!*whole || !tag_is(riff, 0, "RIFF") || !tag_is(riff, 8, "WAVE"))
        return make_error(error::unsupported, "the file is not a RIFF/WAVE file");
    std::optional<wav_layout> fmt;
    std::uint64_t data_offset = 0, data_bytes = 0;
    bool have_data = false;
    std::uint64_t pos = 12;
    for (unsigned n = 0; n < max_chunks && pos + 8 <= file_size && !(fmt && have_data); ++n) {
        std::array<unsigned char, 8> head{};
        auto got = read_exact(read, pos, head);
        if (!got)
            return got.error();
        if (!*got)
            break;
        const std::uint64_t size = le(head, 4, 4);
        const std::uint64_t body = pos + 8;
        if (tag_is(head, 0, "fmt ") && !fmt) {
            std::array<unsigned char, 64> raw{};
            const auto want = std::size_t(std::min<std::uint64_t>(size, raw.size()));
            auto bytes = read(body, std::span(raw).first(want));
            if (!bytes)
                return bytes.error();
            auto parsed = read_fmt(std::span(raw).first(*bytes));
            if (!parsed)
                return parsed.error();
            fmt = *parsed;
        } else if (tag_is(head, 0, "data") && !have_data) {
            have_data = true;
            data_offset = body;
            // Cut at the file's end: a writer that never came back to fix the
            // size (or a hostile one) cannot make stemd read past it.
            data_bytes = std::min(size, file_size - body);
        }
        pos = body + size + (size & 1);
    }
    if (!fmt)
        return bad("it has no fmt chunk");
    if (!have_data)
        return bad("it has no data chunk");
    fmt->data_offset = data_offset;
    fmt->data_bytes = data_bytes - data_bytes % fmt->frame_bytes;
    return *fmt;
}

result<wav_layout> parse_wav_header(std::span<const unsigned char> bytes) {
    const read_at from_bytes = [bytes](std::uint64_t offset,
                                       std::span<unsigned char> out) -> result<std::size_t> {
        if (offset >= bytes.size())
            return std::size_t{0};
        const auto n = std::min<std::size_t>(out.size(), bytes.size() - std::size_t(offset));
        std::copy_n(bytes.begin() + std::ptrdiff_t(offset), n, out.begin());
        return n;
    };
    return parse_wav_header(from_bytes, bytes.size());
}

} // namespace stemd::audio
