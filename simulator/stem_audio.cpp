#include "simulator/stem_audio.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <string_view>

namespace stemd::simulator {

namespace {

constexpr std::uint64_t wav_header_bytes = 44;
constexpr std::uint32_t sample_rate = 44'100;
constexpr std::uint16_t bytes_per_sample = 2; // 16-bit mono

std::uint64_t fnv1a(std::string_view text, std::uint64_t hash = 0xcbf29ce484222325ULL) {
    for (const char c : text) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

std::uint64_t stem_seed(std::string_view task_id, std::string_view stem) {
    return fnv1a(stem, fnv1a("/", fnv1a(task_id)));
}

constexpr std::size_t block_bytes = 8; // four samples from one 64-bit draw

// The block-th output of a splitmix64 generator seeded with `seed`: the
// generator's state after n steps is seed + n * gamma, so any block can be
// computed directly and a byte range costs only its own length.
std::uint64_t splitmix64_at(std::uint64_t seed, std::uint64_t block) {
    std::uint64_t z = seed + (block + 1) * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// Data bytes [8 * block, 8 * block + 8): four little-endian 16-bit samples.
std::array<char, block_bytes> sample_block(std::uint64_t seed, std::uint64_t block) {
    const std::uint64_t bits = splitmix64_at(seed, block);
    std::array<char, block_bytes> out{};
    for (std::size_t k = 0; k < block_bytes / bytes_per_sample; ++k) {
        const auto full = static_cast<std::int16_t>(static_cast<std::uint16_t>(bits >> (16 * k)));
        // Quiet noise (a quarter of full scale) rather than a full-scale hiss.
        const auto sample = static_cast<std::uint16_t>(full / 4);
        out[2 * k] = static_cast<char>(sample & 0xff);
        out[2 * k + 1] = static_cast<char>(sample >> 8);
    }
    return out;
}

void put_le(std::array<char, wav_header_bytes>& h, std::size_t at, std::uint32_t v,
            std::size_t width) {
    for (std::size_t i = 0; i < width; ++i) {
        h[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
    }
}

void put_tag(std::array<char, wav_header_bytes>& h, std::size_t at, std::string_view tag) {
    std::copy(tag.begin(), tag.end(), h.begin() + static_cast<std::ptrdiff_t>(at));
}

// RIFF size fields are 32 bits; files beyond 4 GiB keep the largest value.
std::uint32_t size_field(std::uint64_t total, std::uint64_t minus) {
    const std::uint64_t v = total > minus ? total - minus : 0;
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(v, 0xffffffffULL));
}

std::array<char, wav_header_bytes> wav_header(std::uint64_t total) {
    std::array<char, wav_header_bytes> h{};
    put_tag(h, 0, "RIFF");
    put_le(h, 4, size_field(total, 8), 4);
    put_tag(h, 8, "WAVE");
    put_tag(h, 12, "fmt ");
    put_le(h, 16, 16, 4); // fmt chunk size
    put_le(h, 20, 1, 2);  // PCM
    put_le(h, 22, 1, 2);  // channels
    put_le(h, 24, sample_rate, 4);
    put_le(h, 28, sample_rate * bytes_per_sample, 4); // byte rate
    put_le(h, 32, bytes_per_sample, 2);               // block align
    put_le(h, 34, 16, 2);                             // bits per sample
    put_tag(h, 36, "data");
    put_le(h, 40, size_field(total, wav_header_bytes), 4);
    return h;
}

} // namespace

std::string stem_audio_range(const std::string& task_id, const std::string& stem,
                             std::uint64_t total_bytes, std::uint64_t offset,
                             std::uint64_t length) {
    if (offset >= total_bytes) {
        return {};
    }
    const std::uint64_t end = offset + std::min(length, total_bytes - offset);
    std::string out;
    out.reserve(static_cast<std::size_t>(end - offset));

    std::uint64_t pos = offset;
    if (pos < wav_header_bytes) {
        const auto header = wav_header(total_bytes);
        for (; pos < end && pos < wav_header_bytes; ++pos) {
            out.push_back(header[static_cast<std::size_t>(pos)]);
        }
    }
    const std::uint64_t seed = stem_seed(task_id, stem);
    while (pos < end) {
        const std::uint64_t data_pos = pos - wav_header_bytes;
        const auto block = sample_block(seed, data_pos / block_bytes);
        const auto from = static_cast<std::size_t>(data_pos % block_bytes);
        const auto take =
            static_cast<std::size_t>(std::min<std::uint64_t>(block_bytes - from, end - pos));
        out.append(block.data() + from, take);
        pos += take;
    }
    return out;
}

std::string stem_audio(const std::string& task_id, const std::string& stem, std::uint64_t bytes) {
    return stem_audio_range(task_id, stem, bytes, 0, bytes);
}

double stem_audio_seconds(std::uint64_t bytes) {
    const std::uint64_t data = bytes > wav_header_bytes ? bytes - wav_header_bytes : 0;
    const double seconds = static_cast<double>(data) / (sample_rate * bytes_per_sample);
    return std::round(seconds * 100) / 100;
}

} // namespace stemd::simulator
