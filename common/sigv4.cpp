#include "common/sigv4.hpp"

#include "common/crypto.hpp"
#include "common/signing.hpp"
#include "common/text.hpp"

#include <algorithm>
#include <ctime>
#include <map>
#include <stdexcept>

namespace stemd::sigv4 {

namespace {

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";

std::string hex(std::span<const unsigned char> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const unsigned char b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 0x0f];
    }
    return out;
}

// A header value as SigV4 wants it: no leading or trailing blanks, runs of
// spaces inside folded to one.
std::string canonical_value(std::string_view value) {
    const std::string_view v = trim(value);
    std::string out;
    out.reserve(v.size());
    bool blank = false;
    for (const char c : v) {
        const bool is_blank = c == ' ' || c == '\t';
        if (is_blank && blank)
            continue;
        out += is_blank ? ' ' : c;
        blank = is_blank;
    }
    return out;
}

// Lowercased names in order, each with its values joined by ',' in the
// order given (repeated headers are one header to the signer).
std::map<std::string, std::string> canonical_headers(const request& r) {
    std::map<std::string, std::string> headers;
    for (const auto& [name, value] : r.headers) {
        auto [it, fresh] = headers.try_emplace(lowercase(name), canonical_value(value));
        if (!fresh)
            it->second += "," + canonical_value(value);
    }
    return headers;
}

std::string signed_header_names(const request& r) {
    std::string names;
    for (const auto& [name, value] : canonical_headers(r)) {
        if (!names.empty())
            names += ';';
        names += name;
    }
    return names;
}

// "20150830/us-east-1/service/aws4_request"
std::string credential_scope(const scope& s, const std::string& amz_date) {
    if (amz_date.size() != 16)
        throw std::invalid_argument("sigv4: amz_date must look like 20150830T123600Z");
    return amz_date.substr(0, 8) + "/" + s.region + "/" + s.service + "/aws4_request";
}

hmac_digest hmac(std::span<const unsigned char> key, std::string_view data) {
    return hmac_sha256(key, {data});
}

std::span<const unsigned char> bytes_of(std::string_view s) {
    return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

std::string sign_string(const scope& s, const credentials& c, const std::string& amz_date,
                        const std::string& to_sign) {
    const std::string secret = "AWS4" + c.secret_key;
    const hmac_digest k_date = hmac(bytes_of(secret), amz_date.substr(0, 8));
    const hmac_digest k_region = hmac(k_date, s.region);
    const hmac_digest k_service = hmac(k_region, s.service);
    const hmac_digest k_signing = hmac(k_service, "aws4_request");
    return hex(hmac(k_signing, to_sign));
}

} // namespace

std::string amz_date(std::int64_t unix_seconds) {
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[20];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

std::string uri_encode(std::string_view s, bool keep_slash) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
                                c == '~';
        if (unreserved || (keep_slash && c == '/')) {
            out += ch;
        } else {
            out += '%';
            out += digits[c >> 4];
            out += digits[c & 0x0f];
        }
    }
    return out;
}

std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query) {
    std::vector<std::pair<std::string, std::string>> encoded;
    encoded.reserve(query.size());
    for (const auto& [name, value] : query)
        encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
    // Sorted by encoded name, then encoded value: byte order, as AWS does.
    std::sort(encoded.begin(), encoded.end());
    std::string out;
    for (const auto& [name, value] : encoded) {
        if (!out.empty())
            out += '&';
        out += name + "=" + value;
    }
    return out;
}

std::string canonical_request(const request& r) {
    std::string out =
        r.method + "\n" + (r.path.empty() ? "/" : r.path) + "\n" + canonical_query(r.query) + "\n";
    for (const auto& [name, value] : canonical_headers(r))
        out += name + ":" + value + "\n";
    out += "\n" + signed_header_names(r) + "\n" + r.payload_sha256;
    return out;
}

std::string string_to_sign(const request& r, const scope& s, const std::string& amz_date) {
    return std::string(algorithm) + "\n" + amz_date + "\n" + credential_scope(s, amz_date) + "\n" +
           sha256_hex(canonical_request(r));
}

std::string signature(const request& r, const scope& s, const credentials& c,
                      const std::string& amz_date) {
    return sign_string(s, c, amz_date, string_to_sign(r, s, amz_date));
}

std::string authorization(const request& r, const scope& s, const credentials& c,
                          const std::string& amz_date) {
    return std::string(algorithm) + " Credential=" + c.access_key + "/" +
           credential_scope(s, amz_date) + ", SignedHeaders=" + signed_header_names(r) +
           ", Signature=" + signature(r, s, c, amz_date);
}

std::string presigned_query(const request& r, const scope& s, const credentials& c,
                            const std::string& amz_date, std::int64_t expires_seconds) {
    request signed_request = r;
    signed_request.payload_sha256 = "UNSIGNED-PAYLOAD";
    auto& q = signed_request.query;
    q.emplace_back("X-Amz-Algorithm", std::string(algorithm));
    q.emplace_back("X-Amz-Credential", c.access_key + "/" + credential_scope(s, amz_date));
    q.emplace_back("X-Amz-Date", amz_date);
    q.emplace_back("X-Amz-Expires", std::to_string(expires_seconds));
    if (!c.session_token.empty())
        q.emplace_back("X-Amz-Security-Token", c.session_token);
    q.emplace_back("X-Amz-SignedHeaders", signed_header_names(r));
    return canonical_query(q) + "&X-Amz-Signature=" + signature(signed_request, s, c, amz_date);
}

} // namespace stemd::sigv4
