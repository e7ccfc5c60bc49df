#include "audio/peaks.hpp"

#include <doctest/doctest.h>

#include <limits>
#include <vector>

namespace stemd::audio {

TEST_CASE("peak buckets keep the largest magnitude of each stretch") {
    peak_buckets b(4, 8);
    for (float v : {0.1f, 0.2f, 0.9f, 0.3f, 0.0f, 0.5f, 0.25f, 0.75f})
        b.add(v);
    CHECK(b.finish() == std::vector<float>{0.2f, 0.9f, 0.5f, 0.75f});
}

TEST_CASE("more buckets than frames: every bucket is drawn from the frame it covers") {
    peak_buckets b(6, 2);
    b.add(0.5f);
    b.add(1.0f);
    CHECK(b.finish() == std::vector<float>{0.5f, 0.5f, 0.5f, 1.0f, 1.0f, 1.0f});
}

TEST_CASE("values beyond full scale, negative or NaN stay within 0..1") {
    peak_buckets b(3, 3);
    b.add(3.0f);
    b.add(-1.0f);
    b.add(std::numeric_limits<float>::quiet_NaN());
    CHECK(b.finish() == std::vector<float>{1.0f, 0.0f, 0.0f});
}

TEST_CASE("frames beyond the expected count land in the last bucket") {
    peak_buckets b(2, 2);
    for (float v : {0.1f, 0.2f, 0.3f, 0.8f})
        b.add(v);
    CHECK(b.finish() == std::vector<float>{0.1f, 0.8f});
}

} // namespace stemd::audio
