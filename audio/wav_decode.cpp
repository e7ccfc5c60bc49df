#include "audio/decoders.hpp"
#include "audio/error.hpp"
#include "audio/peaks.hpp"
#include "audio/wav_header.hpp"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace stemd::audio {

namespace {

stemd::error read_failed(int err) {
    return make_error(error::unreadable, std::string("cannot read the audio file: ") +
                                             std::strerror(err) +
                                             "; check the disk and the file's permissions");
}

// pread until `out` is full or the file ends.
result<std::size_t> pread_full(int fd, std::uint64_t offset, std::span<unsigned char> out) {
    std::size_t done = 0;
    while (done < out.size()) {
        const ssize_t n = ::pread(fd, out.data() + done, out.size() - done, off_t(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return read_failed(errno);
        if (n == 0)
            break;
        done += std::size_t(n);
    }
    return done;
}

// |sample| in 0..1 of the sample at `p`.
float magnitude(const unsigned char* p, const wav_layout& w) noexcept {
    if (w.format == sample_format::ieee_float) {
        std::uint32_t bits = std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 |
                             std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
        return std::fabs(std::bit_cast<float>(bits));
    }
    switch (w.bits) {
    case 8: // unsigned, 128 is silence
        return std::fabs(float(int(p[0]) - 128) / 128.0f);
    case 16:
        return std::fabs(float(std::int16_t(p[0] | p[1] << 8)) / 32768.0f);
    case 24: {
        const std::int32_t v = std::int32_t(std::uint32_t(p[0]) << 8 | std::uint32_t(p[1]) << 16 |
                                            std::uint32_t(p[2]) << 24) >>
                               8;
        return std::fabs(float(v) / 8388608.0f);
    }
    default: {
        const std::int32_t v = std::int32_t(std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 |
                                            std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24);
        return float(std::fabs(double(v) / 2147483648.0));
    }
    }
}

} // namespace

result<waveform> decode_wav(int fd, std::uint64_t file_size, int points,
                            const std::atomic<bool>* stop) {
    const read_at from_fd = [fd](std::uint64_t offset, std::span<unsigned char> out) {
        return pread_full(fd, offset, out);
    };
    auto layout = parse_wav_header(from_fd, file_size);
    if (!layout)
        return layout.error();
    const auto& w = *layout;
    const std::uint64_t frames = w.data_bytes / w.frame_bytes;
    peak_buckets buckets(std::size_t(points), frames);
    std::vector<unsigned char> chunk(chunk_bytes - chunk_bytes % w.frame_bytes);
    const unsigned sample_bytes = w.bits / 8;
    for (std::uint64_t at = 0; at < w.data_bytes;) {
        if (stopped(stop))
            return make_error(error::abandoned, "the waveform decode was abandoned");
        const auto want = std::size_t(std::min<std::uint64_t>(chunk.size(), w.data_bytes - at));
        auto got = pread_full(fd, w.data_offset + at, std::span(chunk).first(want));
        if (!got)
            return got.error();
        const std::size_t whole = *got - *got % w.frame_bytes;
        for (std::size_t f = 0; f < whole; f += w.frame_bytes) {
            float peak = 0;
            for (unsigned c = 0; c < w.channels; ++c)
                peak = std::max(peak, magnitude(chunk.data() + f + c * sample_bytes, w));
            buckets.add(peak);
        }
        if (*got < want) // the file shrank while being read
            break;
        at += want;
    }
    return waveform{.peaks = buckets.finish(),
                    .seconds = double(buckets.frames_seen()) / w.sample_rate,
                    .sample_rate = w.sample_rate,
                    .channels = w.channels};
}

} // namespace stemd::audio
