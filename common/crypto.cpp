#include "common/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

namespace stemd {

namespace {

std::string to_hex(std::span<const unsigned char> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 0x0f];
    }
    return out;
}

} // namespace

struct sha256::impl {
    struct ctx_free {
        void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
    };
    std::unique_ptr<EVP_MD_CTX, ctx_free> ctx{EVP_MD_CTX_new()};
};

// OpenSSL fails these calls only when out of memory or misconfigured (no
// default provider): nothing a caller could handle, so they throw.
sha256::sha256() : impl_(std::make_unique<impl>()) {
    if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx.get(), EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("OpenSSL could not set up SHA-256");
}

sha256::~sha256() = default;
sha256::sha256(sha256&&) noexcept = default;
sha256& sha256::operator=(sha256&&) noexcept = default;

void sha256::update(std::span<const unsigned char> bytes) {
    if (bytes.empty())
        return;
    if (EVP_DigestUpdate(impl_->ctx.get(), bytes.data(), bytes.size()) != 1)
        throw std::runtime_error("OpenSSL SHA-256 update failed");
}

void sha256::update(std::string_view bytes) {
    update(std::span(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()));
}

std::string sha256::finish_hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_DigestFinal_ex(impl_->ctx.get(), digest, &size) != 1)
        throw std::runtime_error("OpenSSL SHA-256 finish failed");
    return to_hex(std::span(digest, size));
}

std::string sha256_hex(std::string_view bytes) {
    sha256 h;
    h.update(bytes);
    return h.finish_hex();
}

std::string random_token_hex(std::size_t bytes) {
    if (bytes > 1024)
        throw std::length_error("random_token_hex: at most 1024 bytes per token");
    std::vector<unsigned char> raw(bytes);
    if (bytes > 0 && RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1)
        throw std::runtime_error("the OpenSSL random generator is not available");
    return to_hex(raw);
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size())
        return false;
    return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace stemd
