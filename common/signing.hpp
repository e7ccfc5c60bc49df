#pragma once

// Standard Webhooks signatures, both ways (checking what a relay sent,
// signing what stemd sends): HMAC-SHA256 over "{id}.{timestamp}.{body}"
// with the key inside a "whsec_<base64>" secret, sent as base64.

#include <array>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace stemd {

using hmac_digest = std::array<unsigned char, 32>;

// Throws std::runtime_error only when OpenSSL cannot do HMAC at all.
hmac_digest hmac_sha256(std::span<const unsigned char> key,
                        std::initializer_list<std::string_view> parts);

// Standard base64 (RFC 4648 section 4) with padding.
std::string encode_base64(std::span<const unsigned char> bytes);
// The same, padding optional; nullopt on any other character or an
// impossible length.
std::optional<std::vector<unsigned char>> decode_base64(std::string_view text);

// The key bytes of a "whsec_<base64>" secret; nullopt when it is not one
// (or the key is empty).
std::optional<std::vector<unsigned char>> webhook_secret_key(std::string_view secret);

// base64(HMAC-SHA256(key, id.timestamp.body)): what follows "v1," in
// webhook-signature.
std::string webhook_signature_v1(std::span<const unsigned char> key, std::string_view id,
                                 std::string_view timestamp, std::string_view body);

} // namespace stemd
