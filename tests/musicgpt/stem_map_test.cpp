#include "musicgpt/stem_map.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace json = boost::json;
using stemd::musicgpt::collect_links;
using stemd::musicgpt::parse_stem_map;
using stemd::musicgpt::stem_link;

namespace {

struct expected_link {
    std::string name;
    std::string subdir;
    std::string url;
};

void check_links(const std::vector<stem_link>& got, const std::vector<expected_link>& want) {
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        CAPTURE(i);
        CHECK(got[i].name == want[i].name);
        CHECK(got[i].subdir == want[i].subdir);
        CHECK(got[i].url == want[i].url);
    }
}

} // namespace

TEST_CASE("parse_stem_map reads objects and strings holding objects, nothing else") {
    const auto from_object =
        parse_stem_map(json::parse(R"({"vocals":"https://h/v.mp3","a/b":"https://h/x.mp3",
            "bad":3})"),
                       "wav");
    REQUIRE(from_object.has_value());
    check_links(*from_object,
                {{"vocals", "wav", "https://h/v.mp3"}, {"a_b", "wav", "https://h/x.mp3"}});

    const auto from_string = parse_stem_map(json::value(R"({"bass":"https://h/b.mp3"})"), "");
    REQUIRE(from_string.has_value());
    check_links(*from_string, {{"bass", "", "https://h/b.mp3"}});

    const auto empty = parse_stem_map(json::parse("{}"), "");
    REQUIRE(empty.has_value());
    CHECK(empty->empty());

    CHECK_FALSE(parse_stem_map(json::value("https://h/a.mp3"), "").has_value());
    CHECK_FALSE(parse_stem_map(json::value("{broken"), "").has_value());
    CHECK_FALSE(parse_stem_map(json::value("[1,2]"), "").has_value());
    CHECK_FALSE(parse_stem_map(json::value(12), "").has_value());
    CHECK_FALSE(parse_stem_map(json::parse("[]"), "").has_value());
    CHECK_FALSE(parse_stem_map(json::value(nullptr), "").has_value());
}

TEST_CASE("collect_links: audio_url, then audio_url_wav minus repeats, then top-level URLs") {
    const auto record = json::parse(R"({"vocals":"https://h/top.mp3","audio_path":"https://h/in.mp3",
        "audio_url_wav":{"v":"https://h/v.mp3","w":"https://h/w.wav"},
        "audio_url":{"v":"https://h/v.mp3"},"task_id":"not a URL","n":5})");
    check_links(collect_links(record.as_object()), {{"v", "", "https://h/v.mp3"},
                                                    {"w", "wav", "https://h/w.wav"},
                                                    {"vocals", "", "https://h/top.mp3"}});

    const auto plain = json::parse(R"({"audio_url":"https://h/a.mp3","audio_url_wav":7})");
    check_links(collect_links(plain.as_object()), {{"audio", "", "https://h/a.mp3"}});
}
