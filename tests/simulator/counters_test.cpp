#include "simulator/counters.hpp"

#include <doctest/doctest.h>

using stemd::simulator::counters;

TEST_CASE("counters track stem GETs in flight per path and the most at once") {
    counters c;
    c.body_started("/files/a/vocals.wav");
    c.body_started("/files/a/drums.wav");
    c.body_ended("/files/a/vocals.wav");
    c.body_started("/files/a/vocals.wav"); // a resumed download: one at a time
    CHECK(c.stem_paths["/files/a/vocals.wav"].max_in_flight == 1);
    CHECK(c.stem_paths["/files/a/vocals.wav"].gets == 2);
    c.body_started("/files/a/vocals.wav"); // a second fetcher while one runs
    CHECK(c.stem_paths["/files/a/vocals.wav"].in_flight == 2);
    CHECK(c.stem_paths["/files/a/vocals.wav"].max_in_flight == 2);
    c.body_ended("/files/a/vocals.wav");
    c.body_ended("/files/a/vocals.wav");
    c.body_ended("/files/a/vocals.wav"); // more ends than starts: stays at 0
    CHECK(c.stem_paths["/files/a/vocals.wav"].in_flight == 0);
    CHECK(c.stem_paths["/files/a/vocals.wav"].max_in_flight == 2);
}

TEST_CASE("the stats body carries the stem paths and their peaks") {
    counters c;
    c.body_started("/files/a/vocals.wav");
    c.body_started("/files/a/vocals.wav");
    c.body_started("/files/b/bass.wav");
    c.body_ended("/files/a/vocals.wav");
    c.status_window_peak = 7;
    const auto body = to_json(c, 2);
    CHECK(body.at("stem_max_in_flight").as_uint64() == 2);
    CHECK(body.at("stem_in_flight").as_uint64() == 2);
    CHECK(body.at("status_window_peak").as_uint64() == 7);
    const auto& vocals = body.at("stem_paths").at("/files/a/vocals.wav");
    CHECK(vocals.at("gets").as_uint64() == 2);
    CHECK(vocals.at("in_flight").as_uint64() == 1);
    CHECK(vocals.at("max_in_flight").as_uint64() == 2);
    CHECK(body.at("stem_paths").at("/files/b/bass.wav").at("gets").as_uint64() == 1);
    CHECK(body.at("tasks").as_uint64() == 2);
}
