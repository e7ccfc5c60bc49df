#pragma once

// The two decoders behind decode_waveform (waveform.cpp), one per
// container; internal to audio/.

#include "audio/waveform.hpp"

#include <cstdint>

namespace stemd::audio {

// Reads in chunks of this many bytes (whole frames), whatever the file's size.
inline constexpr std::size_t chunk_bytes = 64 * 1024;

result<waveform> decode_wav(int fd, std::uint64_t file_size, int points,
                            const std::atomic<bool>* stop);
result<waveform> decode_mp3(int fd, int points, const std::atomic<bool>* stop);

inline bool stopped(const std::atomic<bool>* stop) noexcept {
    return stop != nullptr && stop->load(std::memory_order_relaxed);
}

} // namespace stemd::audio
