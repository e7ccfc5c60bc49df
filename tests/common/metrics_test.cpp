#include "common/metrics.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace stemd::metrics;

TEST_CASE("metrics: a labelled counter exposes every declared value, zeros included") {
    labelled_counter c("outcome", {"accepted", "duplicate"});
    c.add("accepted");
    c.add("accepted", 2);
    CHECK(c.value("accepted") == 3);
    CHECK(c.value("duplicate") == 0);
    CHECK_THROWS_AS(c.add("typo"), std::invalid_argument);
    CHECK(render({counter_family("x_total", "Things.", c)}) ==
          "# HELP x_total Things.\n"
          "# TYPE x_total counter\n"
          "x_total{outcome=\"accepted\"} 3\n"
          "x_total{outcome=\"duplicate\"} 0\n");
}

TEST_CASE("metrics: a histogram counts a value on a bound in that bucket, cumulatively") {
    histogram h({0.5, 1, 10});
    for (double v : {0.1, 0.5, 0.7, 10.0, 11.0})
        h.observe(v);
    const auto r = h.read();
    CHECK(r.cumulative == std::vector<std::uint64_t>{2, 3, 4, 5});
    CHECK(r.count() == 5);
    CHECK(r.sum == doctest::Approx(22.3));
    CHECK(render({histogram_family("d_seconds", "Durations.", h)}) ==
          "# HELP d_seconds Durations.\n"
          "# TYPE d_seconds histogram\n"
          "d_seconds_bucket{le=\"0.5\"} 2\n"
          "d_seconds_bucket{le=\"1\"} 3\n"
          "d_seconds_bucket{le=\"10\"} 4\n"
          "d_seconds_bucket{le=\"+Inf\"} 5\n"
          "d_seconds_sum 22.3\n"
          "d_seconds_count 5\n");
    CHECK_THROWS_AS(histogram({1, 1}), std::invalid_argument);
    CHECK_THROWS_AS(histogram({2, 1}), std::invalid_argument);
}

TEST_CASE("metrics: increments from several threads are all counted") {
    counter c;
    histogram h({1});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 10000; ++i) {
                c.add();
                h.observe(0.5);
            }
        });
    for (auto& t : threads)
        t.join();
    CHECK(c.value() == 40000);
    CHECK(h.read().count() == 40000);
    CHECK(h.read().sum == doctest::Approx(20000));
}

TEST_CASE("metrics: label values and help texts are escaped as the text format demands") {
    CHECK(escape_label_value(R"(a\b"c)"
                             "\n"
                             "d") == R"(a\\b\"c\nd)");
    CHECK(escape_help("50\\50 \"quoted\"\nnext") == R"(50\\50 "quoted"\nnext)");
    const auto text = render({gauge_family("g", "A \"gauge\"\\.", 1, {{"v", "1\"\n\\"}})});
    CHECK(text == "# HELP g A \"gauge\"\\\\.\n"
                  "# TYPE g gauge\n"
                  "g{v=\"1\\\"\\n\\\\\"} 1\n");
}

TEST_CASE("metrics: integral values below 2^53 print as plain integers, others as the shortest "
          "text that reads back") {
    CHECK(format_value(0) == "0");
    CHECK(format_value(1764600000) == "1764600000");
    CHECK(format_value(123456789012345.0) == "123456789012345");
    CHECK(format_value(-3) == "-3");
    CHECK(format_value(0.25) == "0.25");
    CHECK(format_value(1764600000.5) == "1764600000.5");
    CHECK(format_value(INFINITY) == "+Inf");
    CHECK(format_value(-INFINITY) == "-Inf");
    CHECK(format_value(NAN) == "NaN");
    // From 2^53 on a double is not an exact integer any more: the shortest
    // text that reads back may be in exponent form, which the format allows.
    CHECK(format_value(9007199254740991.0) == "9007199254740991");
    CHECK(format_value(1e20) == "1e+20");
}

TEST_CASE("metrics: a gauge keeps the last value set, and families render in order") {
    gauge g;
    CHECK(g.value() == 0);
    g.set(12.5);
    g.set(1764600000);
    counter c;
    c.add(7);
    CHECK(
        render({gauge_family("a", "First.", g.value()), counter_family("b_total", "Second.", c)}) ==
        "# HELP a First.\n# TYPE a gauge\na 1764600000\n"
        "# HELP b_total Second.\n# TYPE b_total counter\nb_total 7\n");
}
