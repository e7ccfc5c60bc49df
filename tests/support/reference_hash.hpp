#pragma once

// SHA-256 computed with OpenSSL directly (not with stemd's own code), so
// tests judge stemd's hashes by values that do not come from the code under
// test. Header-only.

#include <openssl/evp.h>

#include <stdexcept>
#include <string>

namespace stemd::test {

// SHA-256 of bytes, lowercase hex.
inline std::string sha256_hex(const std::string& bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("sha256_hex: EVP_Digest failed");
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(length * 2);
    for (unsigned int i = 0; i < length; ++i) {
        out.push_back(hex[digest[i] >> 4]);
        out.push_back(hex[digest[i] & 0x0f]);
    }
    return out;
}

} // namespace stemd::test
