#pragma once

// Standard Webhooks signatures (what Svix, Hookdeck and other relays send):
// HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{raw body}" with the
// key inside a "whsec_" secret, sent base64-encoded as "v1,<signature>".

#include "common/error.hpp"
#include "common/signing.hpp"

#include <boost/system/error_code.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace stemd::server {

// How far a delivery's timestamp may be from our clock, either way.
inline constexpr std::chrono::seconds signature_tolerance{5 * 60};

// The three headers as received ("" when absent).
struct signature_headers {
    std::string_view id;        // webhook-id
    std::string_view timestamp; // webhook-timestamp: Unix seconds
    std::string_view signature; // webhook-signature: space-separated "v1,<base64>"
};

// Why a delivery was refused; the webhook handler answers each with 401
// and the error's message.
enum class signature_error {
    missing_header = 1, // webhook-id, -timestamp or -signature absent (condition::invalid)
    bad_timestamp,      // not Unix seconds, or outside the tolerance (condition::invalid)
    no_valid_signature, // no "v1," entry matches (condition::refused)
};

const boost::system::error_category& signature_category() noexcept;
boost::system::error_code make_error_code(signature_error e) noexcept;

class signature_verifier {
public:
    // Decodes the key of a "whsec_<base64>" secret now, so a mistyped secret
    // stops the daemon at start rather than refusing every delivery later.
    // Throws std::invalid_argument (without the secret in the message).
    explicit signature_verifier(std::string_view secret);

    // Checks the headers against the exact bytes received. Several
    // signatures may be listed (a relay rotating its key); one matching
    // "v1," signature is enough, other versions are skipped.
    result<void> verify(const signature_headers& headers, std::string_view raw_body,
                        std::chrono::system_clock::time_point now) const;

private:
    std::vector<unsigned char> key_;
};

// Standard base64 (common/signing.hpp), kept under this name for callers.
using stemd::decode_base64;

} // namespace stemd::server

template <>
struct boost::system::is_error_code_enum<stemd::server::signature_error> : std::true_type {};
