#pragma once

// Standard Webhooks values computed with OpenSSL's one-shot calls, so tests
// judge stemd's verifier by values that do not come from the code under
// test. Header-only: the unit and the integration tests both use it.

#include <doctest/doctest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <string_view>

namespace stemd::test {

inline std::string openssl_base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()),
                            static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

// "v1,<base64 of HMAC-SHA256(key, id.timestamp.body)>"
inline std::string openssl_sign(std::string_view key, std::string_view id,
                                std::string_view timestamp, std::string_view body) {
    std::string content = std::string(id) + "." + std::string(timestamp) + "." + std::string(body);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    REQUIRE(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                 reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac,
                 &size) != nullptr);
    return "v1," + openssl_base64(std::string_view(reinterpret_cast<char*>(mac), size));
}

} // namespace stemd::test
