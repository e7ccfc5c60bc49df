#include "common/signing.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstdint>
#include <memory>
#include <stdexcept>

namespace stemd {

namespace {

constexpr std::string_view secret_prefix = "whsec_";

// 0-63 for a base64 alphabet character, -1 otherwise.
int sextet(char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

} // namespace

// OpenSSL fails these calls only when out of memory or without its default
// provider: nothing a caller could handle, so they throw.
hmac_digest hmac_sha256(std::span<const unsigned char> key,
                        std::initializer_list<std::string_view> parts) {
    struct mac_free {
        void operator()(EVP_MAC* m) const noexcept { EVP_MAC_free(m); }
        void operator()(EVP_MAC_CTX* c) const noexcept { EVP_MAC_CTX_free(c); }
    };
    std::unique_ptr<EVP_MAC, mac_free> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    std::unique_ptr<EVP_MAC_CTX, mac_free> ctx(mac ? EVP_MAC_CTX_new(mac.get()) : nullptr);
    char sha256_name[] = "SHA256";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, sha256_name, 0),
        OSSL_PARAM_construct_end()};
    if (!ctx || EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1)
        throw std::runtime_error("OpenSSL could not set up HMAC-SHA256");
    for (std::string_view part : parts)
        if (EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(part.data()),
                           part.size()) != 1)
            throw std::runtime_error("OpenSSL HMAC-SHA256 update failed");
    hmac_digest out{};
    std::size_t size = 0;
    if (EVP_MAC_final(ctx.get(), out.data(), &size, out.size()) != 1 || size != out.size())
        throw std::runtime_error("OpenSSL HMAC-SHA256 finish failed");
    return out;
}

std::string encode_base64(std::span<const unsigned char> bytes) {
    // EVP_EncodeBlock writes 4 characters per 3 bytes plus a NUL.
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::optional<std::vector<unsigned char>> decode_base64(std::string_view text) {
    if (text.size() % 4 == 0 && text.ends_with('='))
        text.remove_suffix(text.ends_with("==") ? 2 : 1);
    if (text.size() % 4 == 1)
        return std::nullopt; // six bits cannot end a byte
    std::vector<unsigned char> out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t bits = 0;
    int held = 0;
    for (char c : text) {
        const int v = sextet(c);
        if (v < 0)
            return std::nullopt;
        bits = (bits << 6) | static_cast<std::uint32_t>(v);
        held += 6;
        if (held >= 8) {
            held -= 8;
            out.push_back(static_cast<unsigned char>((bits >> held) & 0xff));
        }
    }
    return out;
}

std::optional<std::vector<unsigned char>> webhook_secret_key(std::string_view secret) {
    if (!secret.starts_with(secret_prefix))
        return std::nullopt;
    auto key = decode_base64(secret.substr(secret_prefix.size()));
    if (!key || key->empty())
        return std::nullopt;
    return key;
}

std::string webhook_signature_v1(std::span<const unsigned char> key, std::string_view id,
                                 std::string_view timestamp, std::string_view body) {
    return encode_base64(hmac_sha256(key, {id, ".", timestamp, ".", body}));
}

} // namespace stemd
