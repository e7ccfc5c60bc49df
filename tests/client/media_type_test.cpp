#include "client/media_type.hpp"

#include <doctest/doctest.h>

#include <string>

using stemd::client::audio_content_type;
using stemd::client::extension_from_content_type;
using stemd::client::extension_from_url;

TEST_CASE("extension_from_url reads the last path segment only") {
    CHECK(extension_from_url("https://cdn1.musicgpt.com/conversions/abc_vocals.mp3") == "mp3");
    CHECK(extension_from_url("https://cdn1.wav.com/x/y/z.flac") == "flac");
    CHECK(extension_from_url("https://h/a.tar.ogg") == "ogg");
    CHECK(extension_from_url("https://h/dir.mp3/file") == "");
    CHECK(extension_from_url("https://h/dir.mp3/") == "");
    CHECK(extension_from_url("https://h/noext") == "");
    CHECK(extension_from_url("https://h/.mp3") == "");
    CHECK(extension_from_url("/local/path/x.wav") == "wav");
    CHECK(extension_from_url("") == "");
}

TEST_CASE("extension_from_url ignores the host, the query string and the fragment") {
    CHECK(extension_from_url("https://cdn.example.mp3") == "");
    CHECK(extension_from_url("https://cdn.example.mp3?x=1") == "");
    CHECK(extension_from_url("https://h/a.mp3?sig=abc.wav&x=y.flac") == "mp3");
    CHECK(extension_from_url("https://h/a?file=b.mp3") == "");
    CHECK(extension_from_url("https://h/a.wav#part.mp3") == "wav");
    CHECK(extension_from_url("https://h/a#x/b.mp3") == "");
    CHECK(extension_from_url("https://h?q=/a.mp3") == "");
}

TEST_CASE("extension_from_url lowercases and accepts only audio extensions") {
    CHECK(extension_from_url("https://h/A.MP3") == "mp3");
    CHECK(extension_from_url("HTTPS://H/A.Wav?X=Y") == "wav");
    for (const std::string ext : {"mp3", "wav", "flac", "ogg", "oga", "opus", "m4a", "aac", "aiff",
                                  "aif", "webm", "mp4", "wma"}) {
        CAPTURE(ext);
        CHECK(extension_from_url("https://h/stem." + ext) == ext);
    }
    for (const std::string ext : {"txt", "html", "sh", "exe", "mp", "mp33", "json"}) {
        CAPTURE(ext);
        CHECK(extension_from_url("https://h/stem." + ext) == "");
    }
}

TEST_CASE("extension_from_content_type maps audio media types") {
    CHECK(extension_from_content_type("audio/mpeg") == "mp3");
    CHECK(extension_from_content_type("audio/mp3") == "mp3");
    for (const auto* wav : {"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"}) {
        CAPTURE(wav);
        CHECK(extension_from_content_type(wav) == "wav");
    }
    CHECK(extension_from_content_type("audio/flac") == "flac");
    CHECK(extension_from_content_type("audio/x-flac") == "flac");
    CHECK(extension_from_content_type("audio/ogg") == "ogg");
    CHECK(extension_from_content_type("audio/opus") == "opus");
    CHECK(extension_from_content_type("audio/aac") == "aac");
    CHECK(extension_from_content_type("audio/mp4") == "m4a");
    CHECK(extension_from_content_type("audio/x-m4a") == "m4a");
    CHECK(extension_from_content_type("audio/aiff") == "aiff");
    CHECK(extension_from_content_type("audio/x-aiff") == "aiff");
    CHECK(extension_from_content_type("audio/webm") == "webm");
}

TEST_CASE("extension_from_content_type ignores case, spaces and parameters") {
    CHECK(extension_from_content_type("Audio/MPEG") == "mp3");
    CHECK(extension_from_content_type("audio/mpeg; charset=binary") == "mp3");
    CHECK(extension_from_content_type(" audio/x-wav ;codecs=1") == "wav");
    CHECK(extension_from_content_type("AUDIO/FLAC;") == "flac");
}

TEST_CASE("extension_from_content_type answers empty for anything else") {
    CHECK(extension_from_content_type("") == "");
    CHECK(extension_from_content_type("text/html") == "");
    CHECK(extension_from_content_type("application/octet-stream") == "");
    CHECK(extension_from_content_type("audio/mpegx") == "");
    CHECK(extension_from_content_type("audio/") == "");
    CHECK(extension_from_content_type("xaudio/mpeg") == "");
}

TEST_CASE("audio_content_type maps extensions, ignoring case") {
    CHECK(audio_content_type("a/b/song.mp3") == "audio/mpeg");
    CHECK(audio_content_type("SONG.MP3") == "audio/mpeg");
    CHECK(audio_content_type("x.wav") == "audio/wav");
    CHECK(audio_content_type("x.flac") == "audio/flac");
    CHECK(audio_content_type("x.ogg") == "audio/ogg");
    CHECK(audio_content_type("x.m4a") == "audio/mp4");
    CHECK(audio_content_type("x.mp4") == "audio/mp4");
    CHECK(audio_content_type("x.aac") == "audio/aac");
    CHECK(audio_content_type("x.aiff") == "audio/aiff");
    CHECK(audio_content_type("x.Aif") == "audio/aiff");
    CHECK(audio_content_type("x.webm") == "audio/webm");
    CHECK(audio_content_type("x.wma") == "audio/x-ms-wma");
    CHECK(audio_content_type("x.txt") == "application/octet-stream");
    CHECK(audio_content_type("mp3") == "application/octet-stream");
    CHECK(audio_content_type("") == "application/octet-stream");
}

TEST_CASE("extension_from_url reads request targets as bare paths") {
    CHECK(extension_from_url("/conversions/t_vocals.mp3?sig=SECRET") == "mp3");
    CHECK(extension_from_url("/dl?id=1") == "");
    CHECK(extension_from_url("/files/final.ogg?sig=a.wav") == "ogg");
}

TEST_CASE("one table: an extension's Content-Type maps back to it or its preferred twin") {
    for (const std::string ext :
         {"mp3", "wav", "flac", "ogg", "opus", "m4a", "aac", "aiff", "webm", "wma"}) {
        CAPTURE(ext);
        CHECK(extension_from_content_type(audio_content_type("x." + ext)) == ext);
    }
    CHECK(extension_from_content_type(audio_content_type("x.mp4")) == "m4a");
    CHECK(extension_from_content_type(audio_content_type("x.aif")) == "aiff");
    CHECK(extension_from_content_type(audio_content_type("x.oga")) == "ogg");
}
