#include "common/sigv4.hpp"

#include "common/crypto.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace stemd;

// Expected values are AWS's published ones: the Signature Version 4 test
// suite (AKIDEXAMPLE, us-east-1, service "service", 20150830T123600Z) and
// the worked examples of the S3 documentation (examplebucket,
// AKIAIOSFODNN7EXAMPLE, 20130524T000000Z).

namespace {

const std::string empty_sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const std::string suite_date = "20150830T123600Z";
const sigv4::scope suite_scope{"us-east-1", "service"};
const sigv4::credentials suite_keys{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const std::string unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// A suite request: host and x-amz-date as the suite's .req files carry them.
sigv4::request suite_request(std::string method, std::string raw_path,
                             std::vector<std::pair<std::string, std::string>> query = {}) {
    sigv4::request r;
    r.method = std::move(method);
    r.path = sigv4::uri_encode(raw_path, true);
    r.query = std::move(query);
    r.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", suite_date}};
    r.payload_sha256 = empty_sha;
    return r;
}

std::string suite_authorization(const sigv4::request& r) {
    return sigv4::authorization(r, suite_scope, suite_keys, suite_date);
}

std::string suite_prefix(const std::string& signed_headers) {
    return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
           "SignedHeaders=" +
           signed_headers + ", Signature=";
}

const std::string s3_date = "20130524T000000Z";
const sigv4::scope s3_scope{"us-east-1", "s3"};
const sigv4::credentials s3_keys{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                 ""};

sigv4::request s3_request(std::string method, std::string path,
                          std::vector<std::pair<std::string, std::string>> query,
                          std::string payload_sha) {
    sigv4::request r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.query = std::move(query);
    r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                 {"x-amz-date", s3_date},
                 {"x-amz-content-sha256", payload_sha}};
    r.payload_sha256 = std::move(payload_sha);
    return r;
}

} // namespace

TEST_CASE("sigv4 suite: get-vanilla, every step") {
    const auto r = suite_request("GET", "/");
    CHECK(sigv4::canonical_request(r) == "GET\n/\n\nhost:example.amazonaws.com\n"
                                         "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
                                             empty_sha);
    CHECK(sigv4::string_to_sign(r, suite_scope, suite_date) ==
          "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
          "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
    CHECK(sigv4::signature(r, suite_scope, suite_keys, suite_date) ==
          "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    CHECK(suite_authorization(r) ==
          suite_prefix("host;x-amz-date") +
              "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST_CASE("sigv4 suite: query parameters are sorted and encoded") {
    SUBCASE("get-vanilla-query-order-key-case") {
        const auto r = suite_request("GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}});
        CHECK(sigv4::canonical_request(r).starts_with("GET\n/\nParam1=value1&Param2=value2\n"));
        CHECK(suite_authorization(r) ==
              suite_prefix("host;x-amz-date") +
                  "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
    }
    SUBCASE("get-vanilla-query-order-value") {
        const auto r = suite_request("GET", "/", {{"Param1", "value2"}, {"Param1", "value1"}});
        CHECK(sigv4::signature(r, suite_scope, suite_keys, suite_date) ==
              "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694");
    }
    SUBCASE("get-vanilla-query-order-key (upper case sorts first)") {
        const auto r = suite_request("GET", "/", {{"Param1", "value2"}, {"Param1", "Value1"}});
        CHECK(sigv4::signature(r, suite_scope, suite_keys, suite_date) ==
              "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1");
    }
    SUBCASE("get-vanilla-query-unreserved") {
        const auto r = suite_request("GET", "/", {{unreserved, unreserved}});
        CHECK(sigv4::canonical_request(r).starts_with("GET\n/\n" + unreserved + "=" + unreserved +
                                                      "\n"));
        CHECK(sigv4::signature(r, suite_scope, suite_keys, suite_date) ==
              "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197");
    }
    SUBCASE("get-vanilla-utf8-query") {
        const auto r = suite_request("GET", "/", {{"\xe1\x88\xb4", "bar"}});
        CHECK(sigv4::canonical_request(r).starts_with("GET\n/\n%E1%88%B4=bar\n"));
        CHECK(sigv4::signature(r, suite_scope, suite_keys, suite_date) ==
              "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04");
    }
    SUBCASE("get-vanilla-query-order-encoded (sorted after encoding)") {
        const auto r = suite_request(
            "GET", "/", {{"Param-3", "Value3"}, {"Param", "Value2"}, {"\xe1\x88\xb4", "Value1"}});
        CHECK(sigv4::canonical_request(r).starts_with(
            "GET\n/\n%E1%88%B4=Value1&Param=Value2&Param-3=Value3\n"));
        CHECK(sigv4::signature(r, suite_scope, suite_keys, suite_date) ==
              "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac");
    }
    SUBCASE("post-vanilla-query") {
        const auto r = suite_request("POST", "/", {{"Param1", "value1"}});
        CHECK(sigv4::signature(r, suite_scope, suite_keys, suite_date) ==
              "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11");
    }
}

TEST_CASE("sigv4 suite: paths") {
    SUBCASE("get-space") {
        const auto r = suite_request("GET", "/example space/");
        CHECK(sigv4::canonical_request(r).starts_with("GET\n/example%20space/\n\n"));
        CHECK(sigv4::signature(r, suite_scope, suite_keys, suite_date) ==
              "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741");
    }
    SUBCASE("get-utf8") {
        const auto r = suite_request("GET", "/\xe1\x88\xb4");
        CHECK(sigv4::canonical_request(r).starts_with("GET\n/%E1%88%B4\n\n"));
        CHECK(sigv4::signature(r, suite_scope, suite_keys, suite_date) ==
              "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
    }
    SUBCASE("get-unreserved") {
        const auto r = suite_request("GET", "/" + unreserved);
        CHECK(sigv4::signature(r, suite_scope, suite_keys, suite_date) ==
              "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f");
    }
    SUBCASE("get-special-character") {
        const auto r = suite_request("GET", "/example/$delete");
        CHECK(sigv4::canonical_request(r).starts_with("GET\n/example/%24delete\n\n"));
        CHECK(sigv4::signature(r, suite_scope, suite_keys, suite_date) ==
              "a853c9b21b528b19643d00910d35b83a10c366a10833ceefb45edd6c80e40f27");
    }
}

TEST_CASE("sigv4 suite: headers and bodies") {
    SUBCASE("post-vanilla") {
        const auto r = suite_request("POST", "/");
        CHECK(suite_authorization(r) ==
              suite_prefix("host;x-amz-date") +
                  "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
    }
    SUBCASE("post-x-www-form-urlencoded") {
        auto r = suite_request("POST", "/");
        r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
        r.payload_sha256 = sha256_hex("Param1=value1");
        CHECK(sigv4::canonical_request(r) ==
              "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\n"
              "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
              "content-type;host;x-amz-date\n"
              "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
        CHECK(suite_authorization(r) ==
              suite_prefix("content-type;host;x-amz-date") +
                  "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
    }
    SUBCASE("post-header-key-case") {
        auto r = suite_request("POST", "/");
        r.headers.emplace_back("MY-HEADER1", "value1");
        CHECK(sigv4::signature(r, suite_scope, suite_keys, suite_date) ==
              "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c");
    }
    SUBCASE("post-header-value-case") {
        auto r = suite_request("POST", "/");
        r.headers.emplace_back("My-Header1", "VALUE1");
        CHECK(suite_authorization(r) ==
              suite_prefix("host;my-header1;x-amz-date") +
                  "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d");
    }
    SUBCASE("get-header-value-trim") {
        auto r = suite_request("GET", "/");
        r.headers.emplace_back("My-Header1", " value1");
        r.headers.emplace_back("My-Header2", " \"a   b   c\"");
        CHECK(sigv4::canonical_request(r).find("my-header2:\"a b c\"\n") != std::string::npos);
        CHECK(sigv4::signature(r, suite_scope, suite_keys, suite_date) ==
              "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
    }
    SUBCASE("get-header-key-duplicate (values joined in order)") {
        auto r = suite_request("GET", "/");
        r.headers.emplace_back("My-Header1", "value2");
        r.headers.emplace_back("My-Header1", "value2");
        r.headers.emplace_back("My-Header1", "value1");
        CHECK(sigv4::signature(r, suite_scope, suite_keys, suite_date) ==
              "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea");
    }
    SUBCASE("post-sts-header-before (a session token is a signed header)") {
        auto r = suite_request("POST", "/");
        r.headers.emplace_back(
            "X-Amz-Security-Token",
            "AQoDYXdzEPT//////////"
            "wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmx"
            "fpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/"
            "kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0"
            "KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+"
            "xo0rKwT38xVqr7ZD0u0iPPkUL64lIZ"
            "bqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==");
        CHECK(suite_authorization(r) ==
              suite_prefix("host;x-amz-date;x-amz-security-token") +
                  "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead");
    }
}

TEST_CASE("sigv4 S3 examples: GET object with a Range header") {
    auto r = s3_request("GET", "/test.txt", {}, empty_sha);
    r.headers.emplace_back("Range", "bytes=0-9");
    CHECK(sigv4::canonical_request(r) ==
          "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
          "x-amz-content-sha256:" +
              empty_sha +
              "\nx-amz-date:20130524T000000Z\n\n"
              "host;range;x-amz-content-sha256;x-amz-date\n" +
              empty_sha);
    CHECK(sigv4::string_to_sign(r, s3_scope, s3_date) ==
          "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
          "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    CHECK(sigv4::authorization(r, s3_scope, s3_keys, s3_date) ==
          "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
          "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
          "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_CASE("sigv4 S3 examples: PUT object, a key with '$'") {
    const std::string body_sha = sha256_hex("Welcome to Amazon S3.");
    CHECK(body_sha == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    auto r = s3_request("PUT", "/" + sigv4::uri_encode("test$file.text", true), {}, body_sha);
    r.headers.emplace_back("Date", "Fri, 24 May 2013 00:00:00 GMT");
    r.headers.emplace_back("x-amz-storage-class", "REDUCED_REDUNDANCY");
    CHECK(sigv4::canonical_request(r).starts_with("PUT\n/test%24file.text\n\n"));
    CHECK(sigv4::authorization(r, s3_scope, s3_keys, s3_date) ==
          "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
          "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
          "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST_CASE("sigv4 S3 examples: GET lifecycle and GET list objects") {
    const auto lifecycle = s3_request("GET", "/", {{"lifecycle", ""}}, empty_sha);
    CHECK(sigv4::canonical_request(lifecycle).starts_with("GET\n/\nlifecycle=\n"));
    CHECK(sigv4::signature(lifecycle, s3_scope, s3_keys, s3_date) ==
          "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");

    const auto list = s3_request("GET", "/", {{"prefix", "J"}, {"max-keys", "2"}}, empty_sha);
    CHECK(sigv4::canonical_request(list).starts_with("GET\n/\nmax-keys=2&prefix=J\n"));
    CHECK(sigv4::signature(list, s3_scope, s3_keys, s3_date) ==
          "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST_CASE("sigv4 S3 examples: the presigned URL valid for a day") {
    sigv4::request r;
    r.method = "GET";
    r.path = "/test.txt";
    r.headers = {{"Host", "examplebucket.s3.amazonaws.com"}};
    CHECK(sigv4::presigned_query(r, s3_scope, s3_keys, s3_date, 86400) ==
          "X-Amz-Algorithm=AWS4-HMAC-SHA256"
          "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
          "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
          "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST_CASE("sigv4: dates and encoding") {
    CHECK(sigv4::amz_date(1440938160) == "20150830T123600Z");
    CHECK(sigv4::amz_date(1369353600) == "20130524T000000Z");
    CHECK(sigv4::uri_encode("a b/c+d*~", true) == "a%20b/c%2Bd%2A~");
    CHECK(sigv4::uri_encode("a b/c", false) == "a%20b%2Fc");
    CHECK(sigv4::canonical_query({{"uploadId", "x/y="}, {"b", ""}, {"a", "2"}}) ==
          "a=2&b=&uploadId=x%2Fy%3D");
}
