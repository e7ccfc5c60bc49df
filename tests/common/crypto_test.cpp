#include "common/crypto.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

using namespace stemd;

TEST_CASE("sha256: known vectors") {
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("sha256: incremental updates equal the one-shot digest") {
    std::string data;
    for (int i = 0; i < 100000; ++i)
        data += static_cast<char>(i * 7);
    sha256 h;
    h.update(std::string_view(data).substr(0, 1));
    h.update(std::string_view(data).substr(1, 65535));
    h.update(std::string_view{});
    h.update(std::span(reinterpret_cast<const unsigned char*>(data.data()) + 65536,
                       data.size() - 65536));
    CHECK(h.finish_hex() == sha256_hex(data));

    // A million 'a's: the FIPS 180-2 long-message vector.
    sha256 million;
    const std::string thousand(1000, 'a');
    for (int i = 0; i < 1000; ++i)
        million.update(thousand);
    CHECK(million.finish_hex() ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: a moved-to object carries the state") {
    sha256 a;
    a.update("ab");
    sha256 b = std::move(a);
    b.update("c");
    CHECK(b.finish_hex() == sha256_hex("abc"));
}

TEST_CASE("random_token_hex: length, alphabet and uniqueness") {
    const std::string t = random_token_hex();
    CHECK(t.size() == 64);
    CHECK(t.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(random_token_hex(16).size() == 32);
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i)
        seen.insert(random_token_hex());
    CHECK(seen.size() == 100);
}

TEST_CASE("constant_time_equal") {
    CHECK(constant_time_equal("", ""));
    CHECK(constant_time_equal("secret-token", "secret-token"));
    CHECK_FALSE(constant_time_equal("secret-token", "secret-tokeN"));
    CHECK_FALSE(constant_time_equal("secret", "secret-token"));
    CHECK_FALSE(constant_time_equal("", "x"));
    CHECK(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
    CHECK_FALSE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}
