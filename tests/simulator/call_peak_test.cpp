#include "simulator/call_peak.hpp"

#include <doctest/doctest.h>

using stemd::simulator::call_peak;
using namespace std::chrono_literals;

TEST_CASE("call_peak keeps the most calls seen within one sliding window") {
    call_peak peak(1000ms);
    const auto t0 = call_peak::clock::now();
    CHECK(peak.peak() == 0);
    CHECK(peak.add(t0) == 1);
    CHECK(peak.add(t0 + 300ms) == 2);
    CHECK(peak.add(t0 + 900ms) == 3);
    // t0 has left the window ending at t0 + 1000 ms: still 3 at most.
    CHECK(peak.add(t0 + 1000ms) == 3);
    CHECK(peak.add(t0 + 1100ms) == 4); // 300, 900, 1000, 1100
    // A quiet spell does not lower the peak.
    CHECK(peak.add(t0 + 10s) == 4);
    CHECK(peak.peak() == 4);
}

TEST_CASE("call_peak counts calls spread over windows one window at a time") {
    call_peak peak(60s);
    const auto t0 = call_peak::clock::now();
    // Ten calls per minute for five minutes, evenly: never more than ten
    // in any sixty seconds.
    for (int i = 0; i < 50; ++i) {
        peak.add(t0 + i * 6s);
    }
    CHECK(peak.peak() == 10);
}
