#include "server/webhook_signature.hpp"

#include "common/signing.hpp"

#include <openssl/crypto.h>

#include <charconv>
#include <cstdint>
#include <stdexcept>

namespace stemd::server {

namespace {

constexpr std::string_view secret_prefix = "whsec_";
constexpr std::string_view version_prefix = "v1,";

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

signature_verifier::signature_verifier(std::string_view secret) {
    if (!secret.starts_with(secret_prefix))
        throw std::invalid_argument("webhook.signing_secret does not start with \"whsec_\"; copy "
                                    "the whole signing secret your webhook relay shows");
    auto key = webhook_secret_key(secret);
    if (!key)
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
        webhook_signature_v1(key_, headers.id, headers.timestamp, raw_body);
    if (!any_matches(headers.signature, expected))
        return refusal(signature_error::no_valid_signature,
                       "no valid signature in webhook-signature; check that "
                       "webhook.signing_secret matches the relay's signing secret");
    return {};
}

} // namespace stemd::server
