#pragma once

// The bearer token of the local API: read from api.token_file, or made
// there on the first start.

#include <filesystem>
#include <string>

namespace stemd::server {

// Tokens shorter than this are refused: a guess must not spend credits.
inline constexpr std::size_t min_api_token_length = 16;

// The token in `file` (surrounding blanks and newlines dropped). When the
// file does not exist, writes a new one there first: 32 random bytes as
// hex, mode 0640, durably (written to a temporary file, synced, renamed,
// directory synced). Throws std::runtime_error naming the file when it
// cannot be read or written, is empty or too short (a start-up failure).
// Never logs the token.
std::string load_or_create_api_token(const std::filesystem::path& file);

} // namespace stemd::server
