#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace stemd {

// SHA-256, random tokens and constant-time comparison (OpenSSL).

// Incremental SHA-256 (OpenSSL EVP) for streamed downloads.
class sha256 {
public:
    sha256();
    ~sha256();
    sha256(sha256&&) noexcept;
    sha256& operator=(sha256&&) noexcept;

    void update(std::span<const unsigned char> bytes);
    void update(std::string_view bytes);
    // Lowercase hex digest; the object must not be used afterwards.
    std::string finish_hex();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// One-shot helpers.
std::string sha256_hex(std::string_view bytes);
// 32 random bytes from the OpenSSL CSPRNG as lowercase hex (64 chars).
std::string random_token_hex(std::size_t bytes = 32);
// Constant-time equality of two byte strings (length is not secret).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

} // namespace stemd
