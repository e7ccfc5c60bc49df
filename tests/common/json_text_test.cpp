#include "common/json_text.hpp"

#include <boost/json/parse.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

namespace json = boost::json;
using stemd::json_number;
using stemd::json_text;

TEST_CASE("json_number: integral values as integers, others in plain decimals") {
    CHECK(json_number(1.0) == "1");
    CHECK(json_number(120.0) == "120");
    CHECK(json_number(-3.0) == "-3");
    CHECK(json_number(0.0) == "0");
    CHECK(json_number(-0.0) == "0");
    CHECK(json_number(1.25) == "1.25");
    CHECK(json_number(0.1) == "0.1");
    CHECK(json_number(1e15) == "1000000000000000");
    CHECK(json_number(0.000125) == "0.000125");
    CHECK(json_number(std::nan("")) == "null");
    CHECK(json_number(std::numeric_limits<double>::infinity()) == "null");
    // Nothing is lost: the text reads back as the same double.
    for (const double v : {0.1, 1.0 / 3, 2.5e-7, 123456.789, 1e20})
        CHECK(json::parse(json_number(v)).to_number<double>() == v);
}

TEST_CASE("json_text: numbers never in exponent form, the rest as Boost.JSON writes it") {
    const json::value v = {{"eta", 1.0},
                           {"credit_estimate", 1.25},
                           {"bytes", 42},
                           {"big", std::uint64_t(18446744073709551615ULL)},
                           {"list", json::array{0.5, 2.0, nullptr, true}},
                           {"text", "a \"quoted\"\nline"},
                           {"nested", {{"x", -7.0}}}};
    const std::string text = json_text(v);
    CHECK(text == R"({"eta":1,"credit_estimate":1.25,"bytes":42,"big":18446744073709551615,)"
                  R"("list":[0.5,2,null,true],"text":"a \"quoted\"\nline","nested":{"x":-7}})");
    CHECK(text.find('E') == std::string::npos); // no key holds one
    CHECK(json_text(json::array{}) == "[]");
    CHECK(json_text(json::object{}) == "{}");
    CHECK(json_text("plain") == "\"plain\"");
}
