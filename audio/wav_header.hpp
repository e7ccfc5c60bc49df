#pragma once

// The layout of a RIFF/WAVE file read from its chunk headers: PCM of 8, 16,
// 24 or 32 bits, IEEE float of 32 bits, plain or WAVE_FORMAT_EXTENSIBLE;
// chunks in any order, odd sizes padded, a data chunk that claims more than
// the file holds cut at the file's end. A pure function of the file's
// bytes: it reads only chunk headers and the fmt chunk (at most 64 bytes),
// never allocates by a size the file states, and walks a bounded number of
// chunks, so a hostile header costs nothing.

#include "common/error.hpp"

#include <cstdint>
#include <functional>
#include <span>

namespace stemd::audio {

enum class sample_format { pcm, ieee_float };

struct wav_layout {
    sample_format format = sample_format::pcm;
    unsigned bits = 0;        // per sample: 8, 16, 24 or 32
    unsigned channels = 0;    // 1..max_channels
    unsigned sample_rate = 0; // frames per second, 1..max_sample_rate
    unsigned frame_bytes = 0; // channels * bits / 8
    std::uint64_t data_offset = 0;
    std::uint64_t data_bytes = 0; // whole frames only, within the file
};

inline constexpr unsigned max_channels = 64;
inline constexpr unsigned max_sample_rate = 1'536'000;
// Chunks walked before giving up on finding fmt and data.
inline constexpr unsigned max_chunks = 1024;

// Fills `out` from the file at `offset`; the count read, short only at the
// end of the file.
using read_at =
    std::function<result<std::size_t>(std::uint64_t offset, std::span<unsigned char> out)>;

// The layout of the WAV file of `file_size` bytes `read` reads from.
// audio::error::unsupported for a format code or sample size not decoded
// (and for bytes that are no RIFF/WAVE at all), malformed for a broken
// header (no fmt or data chunk, zero channels or rate, sizes that do not
// agree), and what `read` fails with.
result<wav_layout> parse_wav_header(const read_at& read, std::uint64_t file_size);

// The same for a file held in `bytes`.
result<wav_layout> parse_wav_header(std::span<const unsigned char> bytes);

} // namespace stemd::audio
