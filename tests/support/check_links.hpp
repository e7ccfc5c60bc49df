#pragma once

// Comparing the links a parser produced with those a test expects, one
// field at a time so that a failure names the link and the field.

#include "musicgpt/report.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace stemd::test {

struct expected_link {
    std::string name;
    std::string subdir;
    std::string url;
};

inline void check_links(const std::vector<musicgpt::stem_link>& got,
                        const std::vector<expected_link>& want) {
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        CAPTURE(i);
        CHECK(got[i].name == want[i].name);
        CHECK(got[i].subdir == want[i].subdir);
        CHECK(got[i].url == want[i].url);
    }
}

} // namespace stemd::test
