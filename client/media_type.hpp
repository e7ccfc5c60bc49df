#pragma once

// Audio media types: file extension <-> Content-Type, one table for uploads
// (the Content-Type of a file sent to MusicGPT) and downloads (the extension
// of a file fetched).

#include <filesystem>
#include <string>
#include <string_view>

namespace stemd::client {

// The audio extension of a URL's path ("mp3", "wav", "flac", "ogg", "m4a",
// "aac", "aiff", "webm", "opus", ...), lowercase, or "" when the path has
// none of them. The query string and fragment are ignored; a text without
// "://" is taken as a bare path (a request target).
std::string extension_from_url(std::string_view url);

// The extension for a Content-Type ("audio/mpeg" -> "mp3", "audio/wav" ->
// "wav", ...), or "" when unknown. Case, spaces and parameters (";charset=")
// are ignored.
std::string extension_from_content_type(std::string_view content_type);

// The Content-Type for a file name's extension, ignoring case
// (application/octet-stream when unknown).
std::string audio_content_type(const std::filesystem::path& file);

} // namespace stemd::client
