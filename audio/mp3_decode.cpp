#include "audio/decoders.hpp"
#include "audio/error.hpp"
#include "audio/peaks.hpp"

#include <mpg123.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace stemd::audio {

namespace {

// mpg123_init must run once before any handle, whatever thread asks first.
int init_once() {
    static std::once_flag once;
    static int status = MPG123_ERR;
    std::call_once(once, [] { status = mpg123_init(); });
    return status;
}

struct handle_closer {
    void operator()(mpg123_handle* h) const noexcept {
        mpg123_close(h);
        mpg123_delete(h);
    }
};
using handle = std::unique_ptr<mpg123_handle, handle_closer>;

stemd::error damaged(mpg123_handle* h, std::string_view doing) {
    return make_error(error::malformed, "the MP3 file cannot be decoded (" + std::string(doing) +
                                            ": " + mpg123_strerror(h) +
                                            "); encode it again or convert it to WAV");
}

stemd::error setup_failed(std::string_view doing, int code) {
    return make_error(error::unreadable, "cannot start the MP3 decoder (" + std::string(doing) +
                                             ": " + mpg123_plain_strerror(code) +
                                             "); check the libmpg123 installation");
}

// A handle reading `fd` that decodes to interleaved 32-bit float.
result<handle> open_decoder(int fd) {
    if (int status = init_once(); status != MPG123_OK)
        return setup_failed("mpg123_init", status);
    int status = MPG123_OK;
    handle h(mpg123_new(nullptr, &status));
    if (!h)
        return setup_failed("mpg123_new", status);
    status = mpg123_param(h.get(), MPG123_ADD_FLAGS, MPG123_QUIET | MPG123_FORCE_FLOAT, 0.0);
    if (status != MPG123_OK)
        return setup_failed("mpg123_param", status);
    if (::lseek(fd, 0, SEEK_SET) < 0)
        return make_error(error::unreadable,
                          std::string("cannot read the MP3 file: ") + std::strerror(errno));
    if (mpg123_open_fd(h.get(), fd) != MPG123_OK)
        return damaged(h.get(), "open");
    return h;
}

// Channels of the stream now, checked to be float as asked for.
result<unsigned> stream_channels(mpg123_handle* h, long& rate) {
    int channels = 0, encoding = 0;
    if (mpg123_getformat(h, &rate, &channels, &encoding) != MPG123_OK)
        return damaged(h, "format");
    if (encoding != MPG123_ENC_FLOAT_32 || channels < 1 || rate < 1)
        return damaged(h, "unexpected output format");
    return unsigned(channels);
}

} // namespace

result<waveform> decode_mp3(int fd, int points, const std::atomic<bool>* stop) {
    auto h = open_decoder(fd);
    if (!h)
        return h.error();
    mpg123_handle* m = h->get();
    // A scan reads every frame header (not the audio) for the exact length;
    // the position stays where it was.
    if (mpg123_scan(m) != MPG123_OK)
        return damaged(m, "scan");
    const off_t length = mpg123_length(m);
    peak_buckets buckets(std::size_t(points), length > 0 ? std::uint64_t(length) : 1);
    std::vector<float> pcm(chunk_bytes / sizeof(float));
    long rate = 0;
    unsigned channels = 0;
    for (;;) {
        if (stopped(stop))
            return make_error(error::abandoned, "the waveform decode was abandoned");
        std::size_t done = 0;
        const int status = mpg123_read(m, pcm.data(), pcm.size() * sizeof(float), &done);
        if (status == MPG123_NEW_FORMAT) {
            auto now = stream_channels(m, rate);
            if (!now)
                return now.error();
            channels = *now;
            continue;
        }
        if (status != MPG123_OK && status != MPG123_DONE)
            return damaged(m, "read");
        if (done > 0 && channels == 0)
            return damaged(m, "audio before a format");
        const std::size_t samples = done / sizeof(float);
        for (std::size_t i = 0; channels > 0 && i + channels <= samples; i += channels) {
            float peak = 0;
            for (unsigned c = 0; c < channels; ++c)
                peak = std::max(peak, std::fabs(pcm[i + c]));
            buckets.add(peak);
        }
        if (status == MPG123_DONE)
            break;
    }
    if (channels == 0 || buckets.frames_seen() == 0)
        return make_error(
            error::malformed,
            "the file looks like MP3 but holds no MPEG audio frames; encode it again");
    return waveform{.peaks = buckets.finish(),
                    .seconds = double(buckets.frames_seen()) / double(rate),
                    .sample_rate = unsigned(rate),
                    .channels = channels};
}

} // namespace stemd::audio
