#pragma once

// Standard Webhooks signatures (what Svix, Hookdeck and other relays send):
// HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{raw body}" with the
// key inside a "whsec_" secret, sent base64-encoded as "v1,<signature>".

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
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

// Why a delivery was refused; every kind is answered 401 with `reason`.
struct signature_problem {
    enum class kind { missing_header, bad_timestamp, no_valid_signature };
    kind what = kind::no_valid_signature;
    std::string reason;
};
[[noreturn]] void throw_exception_from_error(const signature_problem& p,
                                             const boost::source_location& loc);

class signature_verifier {
public:
    // Decodes the key of a "whsec_<base64>" secret now, so a mistyped secret
    // stops the daemon at start rather than refusing every delivery later.
    // Throws std::invalid_argument (without the secret in the message).
    explicit signature_verifier(std::string_view secret);

    // Checks the headers against the exact bytes received. Several
    // signatures may be listed (a relay rotating its key); one matching
    // "v1," signature is enough, other versions are skipped.
    boost::system::result<void, signature_problem>
    verify(const signature_headers& headers, std::string_view raw_body,
           std::chrono::system_clock::time_point now) const;

private:
    std::vector<unsigned char> key_;
};

// Standard base64 (RFC 4648 section 4), padding optional; nullopt on any
// other character or an impossible length.
std::optional<std::vector<unsigned char>> decode_base64(std::string_view text);

} // namespace stemd::server
