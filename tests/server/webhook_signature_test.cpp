#include "server/webhook_signature.hpp"

#include "tests/support/reference_signature.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using stemd::server::decode_base64;
using stemd::server::signature_error;
using stemd::server::signature_headers;
using stemd::server::signature_verifier;
using kind = signature_error;
using namespace std::chrono_literals;
using stemd::test::openssl_base64;
using stemd::test::openssl_sign;

namespace {

const std::string key = "stemd unit test key, 32 bytes!!!";
const std::string secret = "whsec_" + openssl_base64(key);
const std::string body = R"({"task_id":"t-1","success":true})";
const std::string id = "msg_2Lz7qYc0a";

std::chrono::system_clock::time_point at(std::int64_t seconds) {
    return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

constexpr std::int64_t now_s = 1'700'000'000;
const std::string now_text = std::to_string(now_s);

std::optional<kind> refusal(const signature_verifier& v, const signature_headers& h,
                            std::string_view raw = body, std::int64_t now = now_s) {
    auto r = v.verify(h, raw, at(now));
    if (r)
        return std::nullopt;
    CHECK(!r.error().message.empty());
    REQUIRE(r.error().code.category() == stemd::server::signature_category());
    return static_cast<kind>(r.error().code.value());
}

bool accepted(const signature_verifier& v, const signature_headers& h, std::string_view raw = body,
              std::int64_t now = now_s) {
    auto r = v.verify(h, raw, at(now));
    if (!r)
        MESSAGE("refused: " << r.error().message);
    return r.has_value();
}

} // namespace

TEST_CASE("webhook signature: a fixed vector made with the openssl command line") {
    // printf '<id>.<ts>.<body>' | openssl dgst -sha256 -mac HMAC -macopt key:<key> -binary | base64
    CHECK(secret == "whsec_c3RlbWQgdW5pdCB0ZXN0IGtleSwgMzIgYnl0ZXMhISE=");
    signature_verifier v(secret);
    signature_headers h{id, "1700000000", "v1,avGIfiHQNM4d9XgFenQ9f4wKucH1JOheN+3u3N8JPYk="};
    CHECK(accepted(v, h));
    CHECK(openssl_sign(key, id, "1700000000", body) == h.signature);
}

TEST_CASE("webhook signature: valid signatures are accepted") {
    signature_verifier v(secret);
    const std::string good = openssl_sign(key, id, now_text, body);

    CHECK(accepted(v, {id, now_text, good}, body));

    SUBCASE("one good signature among several, for key rotation") {
        const std::string old_key = openssl_sign("the previous key", id, now_text, body);
        const std::string many = old_key + " v1a,c29tZXRoaW5nIGVsc2U= " + good + " v2,xyz";
        CHECK(accepted(v, {id, now_text, many}, body));
        CHECK(accepted(v, {id, now_text, good + " " + old_key}, body));
        CHECK(accepted(v, {id, now_text, "  " + good + "  "}, body));
    }
    SUBCASE("the raw bytes count, including NUL and non-UTF-8 bytes") {
        const std::string binary("\x00\xff{\"a\":1}\r\n\x80", 12);
        CHECK(accepted(v, {id, now_text, openssl_sign(key, id, now_text, binary)}, binary));
        CHECK(refusal(v, {id, now_text, openssl_sign(key, id, now_text, binary)},
                      binary.substr(0, 11)) == kind::no_valid_signature);
    }
    SUBCASE("the secret's base64 may be unpadded") {
        std::string unpadded = secret;
        while (unpadded.ends_with('='))
            unpadded.pop_back();
        REQUIRE(unpadded != secret);
        CHECK(accepted(signature_verifier(unpadded), {id, now_text, good}));
    }
    SUBCASE("up to five minutes of clock difference either way") {
        CHECK(accepted(v, {id, now_text, good}, body, now_s + 300));
        CHECK(accepted(v, {id, now_text, good}, body, now_s - 300));
    }
    SUBCASE("an empty body is signed like any other") {
        CHECK(accepted(v, {id, now_text, openssl_sign(key, id, now_text, "")}, ""));
    }
}

TEST_CASE("webhook signature: forged, altered and stale deliveries are refused") {
    signature_verifier v(secret);
    const std::string good = openssl_sign(key, id, now_text, body);

    // Another key, a changed body, id or timestamp: no match.
    CHECK(refusal(v, {id, now_text, openssl_sign("another key", id, now_text, body)}) ==
          kind::no_valid_signature);
    std::string tampered = body;
    tampered[tampered.find("t-1") + 2] = '2';
    CHECK(refusal(v, {id, now_text, good}, tampered) == kind::no_valid_signature);
    CHECK(refusal(v, {id, now_text, good}, body + " ") == kind::no_valid_signature);
    CHECK(refusal(v, {"msg_other", now_text, good}) == kind::no_valid_signature);
    const std::string later = std::to_string(now_s + 1);
    CHECK(refusal(v, {id, later, good}) == kind::no_valid_signature);

    // Malformed signature lists.
    const std::string bare = good.substr(3);
    CHECK(refusal(v, {id, now_text, bare}) == kind::no_valid_signature);
    CHECK(refusal(v, {id, now_text, "v1a," + bare}) == kind::no_valid_signature);
    CHECK(refusal(v, {id, now_text, "v2," + bare}) == kind::no_valid_signature);
    CHECK(refusal(v, {id, now_text, good.substr(0, good.size() - 1)}) == kind::no_valid_signature);
    CHECK(refusal(v, {id, now_text, good + "A"}) == kind::no_valid_signature);
    CHECK(refusal(v, {id, now_text, "v1,"}) == kind::no_valid_signature);
    CHECK(refusal(v, {id, now_text, good + "," + good}) == kind::no_valid_signature);

    // Outside the tolerance, even with a correct signature.
    CHECK(refusal(v, {id, now_text, good}, body, now_s + 301) == kind::bad_timestamp);
    CHECK(refusal(v, {id, now_text, good}, body, now_s - 301) == kind::bad_timestamp);
    auto stale = v.verify({id, now_text, good}, body, at(now_s + 3600));
    REQUIRE(!stale);
    CHECK(stale.error().message.find("5 minute") != std::string::npos);

    // Timestamps that are not plain seconds.
    for (std::string ts : {"-1700000000", "+1700000000", "1700000000.5", "17e8", " 1700000000",
                           "1700000000 ", "99999999999999999999999", "0x65"}) {
        CAPTURE(ts);
        CHECK(refusal(v, {id, ts, openssl_sign(key, id, ts, body)}) == kind::bad_timestamp);
    }
}

TEST_CASE("webhook signature: each missing header is named") {
    signature_verifier v(secret);
    const std::string good = openssl_sign(key, id, now_text, body);
    struct missing_case {
        signature_headers headers;
        std::string name;
    };
    for (const auto& c :
         {missing_case{{"", now_text, good}, "webhook-id"},
          missing_case{{id, "", good}, "webhook-timestamp"},
          missing_case{{id, now_text, ""}, "webhook-signature"}, missing_case{{}, "webhook-id"}}) {
        auto r = v.verify(c.headers, body, at(now_s));
        REQUIRE(!r);
        CHECK(r.error().code == kind::missing_header);
        CHECK_MESSAGE(r.error().message.find("missing " + c.name + " header") != std::string::npos,
                      r.error().message);
    }
}

TEST_CASE("webhook signature: a bad secret is refused at construction, without echoing it") {
    for (std::string bad :
         {"", "whsec_", "c3RlbWQgdW5pdCB0ZXN0IGtleQ==", "whsec_not base64 at all", "whsec_abcde",
          "whsec_ab=c", "whsec_abc===", "WHSEC_c3RlbWQgdW5pdCB0ZXN0IGtleQ=="}) {
        CAPTURE(bad);
        try {
            signature_verifier v(bad);
            FAIL("accepted a bad secret");
        } catch (const std::invalid_argument& e) {
            const std::string what = e.what();
            CHECK(what.find("webhook.signing_secret") != std::string::npos);
            if (bad.size() > 6)
                CHECK(what.find(bad.substr(6)) == std::string::npos);
        }
    }
}

TEST_CASE("webhook signature: base64 decoding agrees with OpenSSL's encoder") {
    std::string bytes;
    for (int n = 0; n < 40; ++n) {
        CAPTURE(n);
        const std::string encoded = openssl_base64(bytes);
        auto padded = decode_base64(encoded);
        REQUIRE(padded);
        CHECK(std::string(padded->begin(), padded->end()) == bytes);
        std::string bare = encoded;
        while (bare.ends_with('='))
            bare.pop_back();
        auto unpadded = decode_base64(bare);
        REQUIRE(unpadded);
        CHECK(*unpadded == *padded);
        bytes += static_cast<char>(n * 37 + 200);
    }
    CHECK(!decode_base64("Z"));
    CHECK(!decode_base64("Zg="));
    CHECK(!decode_base64("Z==="));
    CHECK(!decode_base64("Zm9v-A=="));
    CHECK(!decode_base64("Zm9v_A=="));
    CHECK(!decode_base64("Zm9v\nYg=="));
    CHECK(!decode_base64("Zg==Zg=="));
}

TEST_CASE("webhook signature: refusals carry a code of their own and a condition") {
    signature_verifier v(secret);
    const std::string good = openssl_sign(key, id, now_text, body);
    auto missing = v.verify({"", now_text, good}, body, at(now_s));
    REQUIRE(!missing);
    CHECK(missing.error().is(stemd::condition::invalid));
    auto forged = v.verify({id, now_text, "v1,AAAA"}, body, at(now_s));
    REQUIRE(!forged);
    CHECK(forged.error().code == kind::no_valid_signature);
    CHECK(forged.error().is(stemd::condition::refused));
    CHECK(std::string(forged.error().code.category().name()) == "stemd.signature");
}
