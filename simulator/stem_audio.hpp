#pragma once

#include <cstdint>
#include <string>

namespace stemd::simulator {

// The deterministic content of a stem: a valid PCM WAV file (44-byte RIFF
// header, 16-bit mono 44.1 kHz) of exactly `bytes` bytes whose samples
// depend on task_id and stem, so each file is distinct and checkable.
std::string stem_audio(const std::string& task_id, const std::string& stem, std::uint64_t bytes);

// Bytes [offset, offset + length) of stem_audio(task_id, stem, total_bytes),
// cut at total_bytes, produced without generating what comes before them,
// so a large stem can be served piece by piece.
std::string stem_audio_range(const std::string& task_id, const std::string& stem,
                             std::uint64_t total_bytes, std::uint64_t offset, std::uint64_t length);

// How long a stem of `bytes` bytes plays, in seconds rounded to hundredths
// (MusicGPT's conversion_duration).
double stem_audio_seconds(std::uint64_t bytes);

} // namespace stemd::simulator
