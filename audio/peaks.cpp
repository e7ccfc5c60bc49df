#include "audio/peaks.hpp"

#include <algorithm>

namespace stemd::audio {

peak_buckets::peak_buckets(std::size_t points, std::uint64_t frames)
    : peaks_(points, 0.0f), touched_(points, false), frames_(std::max<std::uint64_t>(frames, 1)) {}

void peak_buckets::add(float magnitude) noexcept {
    if (peaks_.empty())
        return;
    // seen_ * points stays far below 2^64: points <= 2^16, frames < 2^40.
    const auto bucket = std::min<std::uint64_t>(seen_ * peaks_.size() / frames_, peaks_.size() - 1);
    ++seen_;
    // NaN compares false and is dropped; beyond full scale is full scale.
    const float v = magnitude > 1.0f ? 1.0f : (magnitude > 0.0f ? magnitude : 0.0f);
    peaks_[bucket] = std::max(peaks_[bucket], v);
    touched_[bucket] = true;
}

std::vector<float> peak_buckets::finish() {
    for (std::size_t i = 1; i < peaks_.size(); ++i)
        if (!touched_[i])
            peaks_[i] = peaks_[i - 1];
    return std::move(peaks_);
}

} // namespace stemd::audio
