#include "simulator/stem_audio.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

using stemd::simulator::stem_audio;
using stemd::simulator::stem_audio_range;

namespace {

const std::string task = "62725d68-01e8-4c87-8fb0-298aa81c529c";

std::uint32_t le32(const std::string& s, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        v |= static_cast<std::uint32_t>(static_cast<unsigned char>(s.at(at + i))) << (8 * i);
    }
    return v;
}

std::uint16_t le16(const std::string& s, std::size_t at) {
    return static_cast<std::uint16_t>(static_cast<unsigned char>(s.at(at)) |
                                      (static_cast<unsigned char>(s.at(at + 1)) << 8));
}

} // namespace

TEST_CASE("stem_audio is a PCM WAV file of exactly the requested size") {
    const std::string wav = stem_audio(task, "vocals", 1000);
    REQUIRE(wav.size() == 1000);
    CHECK(wav.substr(0, 4) == "RIFF");
    CHECK(le32(wav, 4) == 992);
    CHECK(wav.substr(8, 4) == "WAVE");
    CHECK(wav.substr(12, 4) == "fmt ");
    CHECK(le32(wav, 16) == 16);
    CHECK(le16(wav, 20) == 1);     // PCM
    CHECK(le16(wav, 22) == 1);     // mono
    CHECK(le32(wav, 24) == 44100); // sample rate
    CHECK(le32(wav, 28) == 88200); // byte rate
    CHECK(le16(wav, 32) == 2);     // block align
    CHECK(le16(wav, 34) == 16);    // bits per sample
    CHECK(wav.substr(36, 4) == "data");
    CHECK(le32(wav, 40) == 956);

    // Samples are noise, not silence or a constant.
    const std::set<char> distinct(wav.begin() + 44, wav.end());
    CHECK(distinct.size() > 100);
}

TEST_CASE("stem_audio is deterministic and differs per stem and task") {
    const std::string drums = stem_audio(task, "drums", 4096);
    CHECK(drums == stem_audio(task, "drums", 4096));
    const std::string bass = stem_audio(task, "bass", 4096);
    const std::string other_task = stem_audio("another-task", "drums", 4096);
    CHECK(drums.substr(0, 44) == bass.substr(0, 44));
    CHECK(drums.substr(44) != bass.substr(44));
    CHECK(drums.substr(44) != other_task.substr(44));
    // ("ab", "c") and ("a", "bc") must not collide: the separator is hashed.
    CHECK(stem_audio("ab", "c", 200).substr(44) != stem_audio("a", "bc", 200).substr(44));
}

TEST_CASE("stem_audio shorter than a header is the header's prefix") {
    const std::string full = stem_audio(task, "piano", 100);
    for (std::uint64_t n : {0, 1, 4, 8, 43, 44}) {
        const std::string cut = stem_audio(task, "piano", n);
        REQUIRE(cut.size() == n);
        CHECK(cut.substr(0, 4) == full.substr(0, std::min<std::uint64_t>(n, 4)));
    }
    CHECK(le32(stem_audio(task, "piano", 44), 4) == 36);
    CHECK(le32(stem_audio(task, "piano", 44), 40) == 0);
}

TEST_CASE("stem_audio_range slices equal the same bytes of the whole file") {
    constexpr std::uint64_t size = 5001; // odd: the last sample is cut in half
    const std::string whole = stem_audio(task, "guitar", size);
    for (std::uint64_t offset : {0, 1, 2, 43, 44, 45, 46, 999, 1000, 4999, 5000}) {
        for (std::uint64_t length : {0, 1, 2, 3, 7, 100, 10'000}) {
            CAPTURE(offset);
            CAPTURE(length);
            CHECK(stem_audio_range(task, "guitar", size, offset, length) ==
                  whole.substr(offset, length));
        }
    }
    CHECK(stem_audio_range(task, "guitar", size, size, 10).empty());
    CHECK(stem_audio_range(task, "guitar", size, size + 100, 10).empty());

    // Odd-sized pieces put back together make the whole file.
    std::string joined;
    for (std::uint64_t at = 0; at < size; at += 333) {
        joined += stem_audio_range(task, "guitar", size, at, 333);
    }
    CHECK(joined == whole);
}

TEST_CASE("stem_audio_range serves the far end of a 200 MB stem directly") {
    constexpr std::uint64_t size = 200ULL * 1024 * 1024 + 1;
    const std::string head = stem_audio_range(task, "bass", size, 0, 44);
    CHECK(le32(head, 4) == size - 8);
    CHECK(le32(head, 40) == size - 44);

    const std::uint64_t near_end = size - 1000;
    const std::string a = stem_audio_range(task, "bass", size, near_end, 600);
    const std::string b = stem_audio_range(task, "bass", size, near_end + 101, 5000);
    REQUIRE(a.size() == 600);
    REQUIRE(b.size() == 899); // cut at the end of the file
    CHECK(a.substr(101) == b.substr(0, 499));
}

TEST_CASE("stem_audio_seconds is the playing time of the samples after the header") {
    using stemd::simulator::stem_audio_seconds;
    CHECK(stem_audio_seconds(0) == 0.0);
    CHECK(stem_audio_seconds(44) == 0.0);
    CHECK(stem_audio_seconds(44 + 88200) == 1.0); // one second of 16-bit mono 44.1 kHz
    CHECK(stem_audio_seconds(44 + 88200 * 3 / 2) == 1.5);
    CHECK(stem_audio_seconds(256 * 1024) == 2.97); // the default stem, rounded to hundredths
}
