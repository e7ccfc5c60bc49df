#include "server/webhook_signature.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <stdexcept>

namespace stemd::server {

namespace {

constexpr std::string_view secret_prefix = "whsec_";
constexpr std::string_view version_prefix = "v1,";

using digest = std::array<unsigned char, 32>;

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

std::string encode_base64(const digest& d) {
    // EVP_EncodeBlock writes 4 characters per 3 bytes plus a NUL.
    std::array<unsigned char, 4 * ((std::tuple_size_v<digest> + 2) / 3) + 1> out{};
    const int n = EVP_EncodeBlock(out.data(), d.data(), static_cast<int>(d.size()));
    return std::string(reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(n));
}

// OpenSSL fails these calls only when out of memory or without its default
// provider: nothing a caller could handle, so they throw.
digest hmac_sha256(const std::vector<unsigned char>& key,
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
    digest out{};
    std::size_t size = 0;
    if (EVP_MAC_final(ctx.get(), out.data(), &size, out.size()) != 1 || size != out.size())
        throw std::runtime_error("OpenSSL HMAC-SHA256 finish failed");
    return out;
}

stemd::error refusal(signature_error code, std::string reason) {
    return {make_error_code(code), std::move(reason)};
}

stemd::error missing(std::string_view header) {
    return refusal(signature_error::missing_header,
                   "missing " + std::string(header) +
                       " header: stemd requires signed deliveries (webhook-id, webhook-timestamp, "
                       "webhook-signature) because webhook.signing_secret is set");
}

// Unix seconds, digits only (no sign, no fraction).
std::optional<std::int64_t> parse_seconds(std::string_view text) {
    if (text.empty())
        return std::nullopt;
    for (char c : text)
        if (c < '0' || c > '9')
            return std::nullopt;
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

bool within_tolerance(std::int64_t sent, std::chrono::system_clock::time_point now) {
    const std::int64_t ours =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    const std::int64_t skew = ours > sent ? ours - sent : sent - ours;
    return skew <= signature_tolerance.count();
}

// Does any "v1,<base64>" entry equal `expected`? Compared in constant time
// for a given length; the lengths themselves are public.
bool any_matches(std::string_view header, std::string_view expected) {
    bool found = false;
    while (!header.empty()) {
        const auto space = header.find(' ');
        std::string_view entry = header.substr(0, space);
        header = space == std::string_view::npos ? std::string_view{} : header.substr(space + 1);
        if (!entry.starts_with(version_prefix))
            continue; // another scheme (e.g. v1a, asymmetric): not ours to check
        entry.remove_prefix(version_prefix.size());
        if (entry.size() == expected.size() &&
            CRYPTO_memcmp(entry.data(), expected.data(), expected.size()) == 0)
            found = true;
    }
    return found;
}

} // namespace

const boost::system::error_category& signature_category() noexcept {
    static const table_category category(
        "stemd.signature",
        {{int(signature_error::missing_header), "a Standard Webhooks header is missing",
          condition::invalid},
         {int(signature_error::bad_timestamp),
          "webhook-timestamp is malformed or outside the tolerance", condition::invalid},
         {int(signature_error::no_valid_signature), "no valid webhook signature",
          condition::refused}});
    return category;
}

boost::system::error_code make_error_code(signature_error e) noexcept {
    return {static_cast<int>(e), signature_category()};
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

signature_verifier::signature_verifier(std::string_view secret) {
    if (!secret.starts_with(secret_prefix))
        throw std::invalid_argument("webhook.signing_secret does not start with \"whsec_\"; copy "
                                    "the whole signing secret your webhook relay shows");
    auto key = decode_base64(secret.substr(secret_prefix.size()));
    if (!key || key->empty())
        throw std::invalid_argument("webhook.signing_secret is not \"whsec_\" followed by "
                                    "base64; copy the whole signing secret your webhook relay "
                                    "shows");
    key_ = std::move(*key);
}

result<void> signature_verifier::verify(const signature_headers& headers, std::string_view raw_body,
                                        std::chrono::system_clock::time_point now) const {
    if (headers.id.empty())
        return missing("webhook-id");
    if (headers.timestamp.empty())
        return missing("webhook-timestamp");
    if (headers.signature.empty())
        return missing("webhook-signature");

    const auto sent = parse_seconds(headers.timestamp);
    if (!sent)
        return refusal(signature_error::bad_timestamp,
                       "webhook-timestamp is not a whole number of seconds since "
                       "1970-01-01 UTC");
    // Checked before the signature so an old capture cannot be replayed
    // once its id has been forgotten.
    if (!within_tolerance(*sent, now))
        return refusal(signature_error::bad_timestamp,
                       "webhook-timestamp is outside the 5 minute tolerance; check "
                       "that the clocks of stemd and the sender are right");

    const std::string expected =
        encode_base64(hmac_sha256(key_, {headers.id, ".", headers.timestamp, ".", raw_body}));
    if (!any_matches(headers.signature, expected))
        return refusal(signature_error::no_valid_signature,
                       "no valid signature in webhook-signature; check that "
                       "webhook.signing_secret matches the relay's signing secret");
    return {};
}

} // namespace stemd::server
