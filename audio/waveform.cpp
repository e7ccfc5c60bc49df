#include "audio/waveform.hpp"

#include "audio/decoders.hpp"
#include "audio/error.hpp"
#include "common/posix_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

namespace stemd::audio {

container sniff(std::span<const unsigned char> head) noexcept {
    if (head.size() >= 12 && std::memcmp(head.data(), "RIFF", 4) == 0 &&
        std::memcmp(head.data() + 8, "WAVE", 4) == 0)
        return container::wav;
    if (head.size() >= 4 && std::memcmp(head.data(), "ID3", 3) == 0)
        return container::mp3;
    // An MPEG audio frame header: 11 sync bits, a version other than the
    // reserved one, a layer, a bitrate index other than "bad", a known rate.
    if (head.size() >= 4 && head[0] == 0xff && (head[1] & 0xe0) == 0xe0 &&
        ((head[1] >> 3) & 3) != 1 && ((head[1] >> 1) & 3) != 0 && (head[2] >> 4) != 0xf &&
        ((head[2] >> 2) & 3) != 3)
        return container::mp3;
    return container::unknown;
}

result<waveform> decode_waveform(int fd, int points, const std::atomic<bool>* stop) {
    if (points < 1 || points > max_points)
        return make_error(error::bad_points, "a waveform has 1 to " + std::to_string(max_points) +
                                                 " points, not " + std::to_string(points));
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return make_error(error::unreadable,
                          std::string("cannot examine the audio file: ") + std::strerror(errno));
    std::array<unsigned char, 12> head{};
    ssize_t got = -1;
    do
        got = ::pread(fd, head.data(), head.size(), 0);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return make_error(error::unreadable,
                          std::string("cannot read the audio file: ") + std::strerror(errno));
    switch (sniff(std::span(head).first(std::size_t(got)))) {
    case container::wav:
        return decode_wav(fd, std::uint64_t(st.st_size), points, stop);
    case container::mp3:
        return decode_mp3(fd, points, stop);
    case container::unknown:
        break;
    }
    return make_error(error::unsupported,
                      "the file is neither WAV nor MP3 (judged by its first bytes), so stemd "
                      "draws no waveform for it; the file itself is unchanged");
}

result<waveform> decode_waveform(const std::filesystem::path& path, int points) {
    unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        return make_error(error::unreadable, "cannot open " + path.string() + ": " +
                                                 std::strerror(errno) + "; check the path");
    return decode_waveform(fd.get(), points);
}

} // namespace stemd::audio
