#include "server/file_route.hpp"

#include "server/list_cursor.hpp"
#include "server/stem_files.hpp"

#include <doctest/doctest.h>

using stemd::server::byte_range;
using stemd::server::parse_range;
using kind = byte_range::kind;

namespace {

void partial(std::string_view header, std::uint64_t size, std::uint64_t first, std::uint64_t last) {
    CAPTURE(header);
    const auto r = parse_range(header, size);
    CHECK(r.what == kind::partial);
    CHECK(r.first == first);
    CHECK(r.last == last);
}

kind what(std::string_view header, std::uint64_t size = 1000) {
    return parse_range(header, size).what;
}

} // namespace

TEST_CASE("parse_range: a-b, a- and -n") {
    partial("bytes=0-0", 1000, 0, 0);
    partial("bytes=0-999", 1000, 0, 999);
    partial("bytes=10-20", 1000, 10, 20);
    partial("bytes=500-", 1000, 500, 999);
    partial("bytes=999-", 1000, 999, 999);
    partial("bytes=-1", 1000, 999, 999);
    partial("bytes=-100", 1000, 900, 999);
    // The end and a long suffix are clipped to the file.
    partial("bytes=900-5000", 1000, 900, 999);
    partial("bytes=0-99999999999999999", 1000, 0, 999);
    partial("bytes=-5000", 1000, 0, 999);
    // The unit is case-insensitive; blanks around the whole value are fine.
    partial("Bytes=1-2", 1000, 1, 2);
    partial("  bytes=1-2 ", 1000, 1, 2);
}

TEST_CASE("parse_range: a start at or past the end, and -0, are unsatisfiable") {
    CHECK(what("bytes=1000-") == kind::unsatisfiable);
    CHECK(what("bytes=1000-2000") == kind::unsatisfiable);
    CHECK(what("bytes=5000-") == kind::unsatisfiable);
    CHECK(what("bytes=-0") == kind::unsatisfiable);
    CHECK(what("bytes=0-", 0) == kind::unsatisfiable);
    CHECK(what("bytes=-10", 0) == kind::unsatisfiable);
}

TEST_CASE("parse_range: anything malformed, another unit, or several ranges is the whole file") {
    for (std::string_view bad : {"",
                                 "bytes",
                                 "bytes=",
                                 "bytes=-",
                                 "bytes=a-b",
                                 "bytes=1-a",
                                 "bytes=x-",
                                 "bytes=-x",
                                 "bytes=5-4",
                                 "bytes=+1-2",
                                 "bytes=1--2",
                                 "bytes=1 - 2",
                                 "bytes=--1",
                                 "bytes=0x10-",
                                 "items=0-1",
                                 "bytes 0-1",
                                 "bytes=0-1,2-3",
                                 "bytes=0-1, 5-",
                                 "bytes=1-2-3",
                                 "bytes=99999999999999999999-",
                                 "bytes=-99999999999999999999"}) {
        CAPTURE(bad);
        CHECK(what(bad) == kind::whole);
    }
}

TEST_CASE("list cursor: round trip, and nothing else is one") {
    using stemd::server::cursor_text;
    using stemd::server::parse_cursor;
    const stemd::storage::job_cursor c{1764615600123, 42};
    CHECK(parse_cursor(cursor_text(c)) == c);
    CHECK(parse_cursor(cursor_text({0, 0})) == stemd::storage::job_cursor{0, 0});
    for (std::string_view bad : {"", "c1.", "c1.5", "c1.5.", "c1..5", "c1.-5.1", "c1.5.x", "c2.5.1",
                                 "5.1", "c1.05.1", "c1.5.1 ", "c1.99999999999999999999.1"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_cursor(bad).has_value());
    }
}

TEST_CASE("file href: the name is one segment, parsed back") {
    stemd::storage::file_record f;
    f.job_id = "job 1";
    f.name = "vocals";
    f.subdir = "wav";
    CHECK(stemd::server::file_href(f) == "/v1/jobs/job%201/files/wav%2Fvocals");
    const auto t = stemd::server::parse_file_target("/v1/jobs/job%201/files/wav%2Fvocals");
    REQUIRE(t.has_value());
    CHECK(t->key == "job 1");
    CHECK(t->file == "wav/vocals");
    CHECK(t->rest.empty());
    const auto w = stemd::server::parse_file_target("/v1/jobs/k/files/vocals/waveform");
    REQUIRE(w.has_value());
    CHECK(w->rest == "waveform");
    for (std::string_view other : {"/v1/jobs/k", "/v1/jobs/k/files", "/v1/jobs/k/files/",
                                   "/v1/jobs/k/events", "/v1/jobs//files/x", "/v1/jobs/k/file/x",
                                   "/v1/jobs/k/files/a/b/c", "/v1/jobs/k/files/%zz"}) {
        CAPTURE(other);
        CHECK_FALSE(stemd::server::parse_file_target(other).has_value());
    }
}
