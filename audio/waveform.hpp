#pragma once

// A waveform picture of an audio file: a fixed number of buckets, each the
// largest |sample| (0..1) of its stretch of time across all channels. The
// format is found from the bytes, never the name: RIFF/WAVE always, MP3
// (an ID3v2 tag or a frame sync) through libmpg123. The file is read in
// bounded chunks, so memory is O(points + chunk) for any length of audio.
// Blocking: the daemon runs it on a worker thread.

#include "common/error.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace stemd::audio {

inline constexpr int max_points = 65'536;

struct waveform {
    std::vector<float> peaks; // `points` values in 0..1
    double seconds = 0;
    unsigned sample_rate = 0;
    unsigned channels = 0;
};

enum class container { wav, mp3, unknown };

// What the first bytes of a file say it is (at least 4 bytes are needed
// to say anything but unknown).
container sniff(std::span<const unsigned char> head) noexcept;

// The waveform of the file open on `fd` (read with pread/read from offset
// 0; the descriptor stays open). error::unsupported for bytes of another
// format, malformed for a damaged file, unreadable when reading fails,
// bad_points outside 1..max_points, abandoned when `stop` becomes true.
result<waveform> decode_waveform(int fd, int points, const std::atomic<bool>* stop = nullptr);

// The same for the file at `path` (error::unreadable when it cannot be
// opened).
result<waveform> decode_waveform(const std::filesystem::path& path, int points);

} // namespace stemd::audio
