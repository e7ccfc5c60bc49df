#pragma once

// Folding a stream of frames into a fixed number of buckets, each the
// largest |sample| of its frames: the memory is one float per bucket
// whatever the length of the audio.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace stemd::audio {

class peak_buckets {
public:
    // `frames` is how many frames will come (an estimate is fine: later
    // frames land in the last bucket, missing ones leave buckets to fill).
    peak_buckets(std::size_t points, std::uint64_t frames);

    // The next frame, as the largest |sample| across its channels.
    void add(float magnitude) noexcept;
    std::uint64_t frames_seen() const noexcept { return seen_; }

    // The buckets, each within 0..1. A bucket no frame fell in (more
    // buckets than frames) takes the value of the one before it, so a short
    // sound still draws as a whole picture.
    std::vector<float> finish();

private:
    std::vector<float> peaks_;
    std::vector<bool> touched_;
    std::uint64_t frames_;
    std::uint64_t seen_ = 0;
};

} // namespace stemd::audio
