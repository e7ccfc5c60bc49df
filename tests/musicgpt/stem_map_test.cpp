#include "musicgpt/stem_map.hpp"

#include "common/file_names.hpp"
#include "tests/support/check_links.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace json = boost::json;
using stemd::musicgpt::collect_links;
using stemd::musicgpt::parse_stem_map;
using stemd::musicgpt::stem_link;

namespace {

using stemd::test::check_links;

// The links of a record as collect_links names them.
struct record_links {
    std::vector<stem_link> links;
};

record_links parsed(std::string_view record) {
    return {collect_links(json::parse(record).as_object())};
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

TEST_CASE("collect_links: audio_url, then audio_url_wav minus repeats, then top-level stems") {
    const auto record =
        json::parse(R"({"vocals":"https://h/top.mp3","audio_path":"https://h/in.mp3",
        "audio_url_wav":{"v":"https://h/v.mp3","w":"https://h/w.wav"},
        "audio_url":{"v":"https://h/v.mp3"},"task_id":"not a URL","n":5})");
    check_links(collect_links(record.as_object()), {{"v", "", "https://h/v.mp3"},
                                                    {"w", "wav", "https://h/w.wav"},
                                                    {"vocals", "", "https://h/top.mp3"}});

    const auto plain = json::parse(R"({"audio_url":"https://h/a.mp3","audio_url_wav":7})");
    check_links(collect_links(plain.as_object()), {{"audio", "", "https://h/a.mp3"}});
}

TEST_CASE("hostile stem names become safe file names") {
    const std::string long_key(300, 'k');
    const auto p = parsed(R"({"task_id":"t","success":true,"audio_url":{
        "../../etc/passwd":"https://h/1.mp3","a/b":"https://h/2.mp3","\u0001":"https://h/3.mp3",
        ")" + long_key + R"(":"https://h/4.mp3",".hidden":"https://h/5.mp3","..":"https://h/6.mp3",
        "":"https://h/7.mp3"}})");
    check_links(p.links, {{"_.._etc_passwd", "", "https://h/1.mp3"},
                          {"a_b", "", "https://h/2.mp3"},
                          {"_", "", "https://h/3.mp3"},
                          {std::string(64, 'k'), "", "https://h/4.mp3"},
                          {"hidden", "", "https://h/5.mp3"},
                          {"file", "", "https://h/6.mp3"},
                          {"file-2", "", "https://h/7.mp3"}});
    for (const auto& link : p.links) {
        CHECK(link.name == stemd::safe_name(link.name));
    }
}

TEST_CASE("names equal after sanitizing get -2, -3 and stay within 64 bytes") {
    const auto p = parsed(R"({"task_id":"t","audio_url":{
        "a/b":"https://h/1.mp3","a?b":"https://h/2.mp3","a b":"https://h/3.mp3",
        "a_b-2":"https://h/4.mp3"}})");
    check_links(p.links, {{"a_b", "", "https://h/1.mp3"},
                          {"a_b-2", "", "https://h/2.mp3"},
                          {"a_b-3", "", "https://h/3.mp3"},
                          {"a_b-2-2", "", "https://h/4.mp3"}});

    const std::string long_a(100, 'x');
    const auto q = parsed(R"({"task_id":"t","audio_url":{")" + long_a +
                          R"(1":"https://h/1.mp3",")" + long_a + R"(2":"https://h/2.mp3"}})");
    check_links(q.links, {{std::string(64, 'x'), "", "https://h/1.mp3"},
                          {std::string(62, 'x') + "-2", "", "https://h/2.mp3"}});
}

// Found while fuzzing: naming each link scanned the whole list once per
// candidate suffix (cubic), so a 25 KB body of 1000 keys that sanitize alike
// took ~30 s of CPU in the sanitizer build, and a 1 MiB body would take days.
// 10000 such keys must be quick even with sanitizers.
TEST_CASE("many stem names that sanitize alike are named quickly" * doctest::timeout(10)) {
    // No '"' or '\\': every key is a valid JSON string as written.
    const std::string punctuation = "!#$%&()*+,:;<=>?@[]^{|}~";
    std::string body = R"({"task_id":"t","audio_url":{)";
    int count = 0;
    for (const char a : punctuation)
        for (const char b : punctuation)
            for (const char c : punctuation) {
                if (count == 10000)
                    break;
                body += (count == 0 ? "" : ",");
                body += "\"k" + std::string{a, b, c} + "\":\"https://h/" + std::to_string(count) +
                        ".mp3\"";
                ++count;
            }
    body += "}}";
    const auto p = parsed(body);
    REQUIRE(p.links.size() == 10000);
    CHECK(p.links[0].name == "k___");
    CHECK(p.links[1].name == "k___-2");
    CHECK(p.links[9999].name == "k___-10000");
    CHECK(p.links[9999].url == "https://h/9999.mp3");
}

TEST_CASE("the same name in different subdirs needs no suffix") {
    const auto p = parsed(R"({"task_id":"t","audio_url":{"v":"https://h/v.mp3"},
        "audio_url_wav":{"v":"https://h/v.wav"}})");
    check_links(p.links, {{"v", "", "https://h/v.mp3"}, {"v", "wav", "https://h/v.wav"}});
}

TEST_CASE("the same URL under two stem names is two files, under one name it is one") {
    const auto two = parsed(R"({"task_id":"t","vocal":"https://h/same.mp3",
        "back_vocal":"https://h/same.mp3"})");
    check_links(two.links,
                {{"vocal", "", "https://h/same.mp3"}, {"back_vocal", "", "https://h/same.mp3"}});

    const auto one = parsed(R"({"task_id":"t","audio_url":{"vocals":"https://h/v.mp3"},
        "vocals":"https://h/v.mp3"})");
    check_links(one.links, {{"vocals", "", "https://h/v.mp3"}});
}

TEST_CASE("only http(s) URL strings become links") {
    const auto p = parsed(R"json({"task_id":"t","audio_url":{
        "a":"HTTPS://H/a.mp3","b":"Http://h/b.mp3","c":"ftp://h/c.mp3","d":"file:///etc/passwd",
        "e":"","f":42,"g":{"x":"https://h/g.mp3"},"h":"https://","i":"https://h/has space.mp3",
        "j":null,"k":["https://h/k.mp3"],"l":"/relative.mp3"},
        "title":"https is great","cover":"javascript:alert(1)","n":5,
        "drums":"ftp://h/d.mp3","bass":"https://h/b.mp3"})json");
    check_links(p.links, {{"a", "", "HTTPS://H/a.mp3"},
                          {"b", "", "Http://h/b.mp3"},
                          {"bass", "", "https://h/b.mp3"}});
}

TEST_CASE("top-level fields are links only under a stem name") {
    const auto p = parsed(R"({"task_id":"t","success":true,
        "webhook_url":"https://stemd.example/webhook/tok","image_url":"https://h/cover.jpg",
        "cover":"https://h/cover.png","title":"https://h/t","audio_path":"https://h/in.mp3",
        "vocal":"https://h/vocal.mp3","Instrumental":"https://h/i.mp3",
        "kick_drum":"https://h/k.mp3","vocals_extra":"https://h/x.mp3"})");
    check_links(p.links, {{"vocal", "", "https://h/vocal.mp3"},
                          {"Instrumental", "", "https://h/i.mp3"},
                          {"kick_drum", "", "https://h/k.mp3"}});
}

TEST_CASE("is_stem_key knows MusicGPT's stem names and nothing else") {
    for (const auto* key : {"vocal",
                            "vocals",
                            "male_vocal",
                            "female_vocal",
                            "lead_vocal",
                            "back_vocal",
                            "guitar",
                            "acoustic_guitar",
                            "electric_guitar",
                            "rhythm_guitar",
                            "solo_guitar",
                            "drums",
                            "kick_drum",
                            "snare_drum",
                            "toms",
                            "hi_hat",
                            "ride",
                            "crash",
                            "piano",
                            "keys",
                            "strings",
                            "winds",
                            "bass",
                            "instrumental",
                            "DRUMS"})
        CHECK(stemd::musicgpt::is_stem_key(key));
    for (const auto* key : {"", "audio", "audio_url", "audio_url_wav", "audio_path", "webhook_url",
                            "image_url", "cover", "title", "task_id", "vocals "})
        CHECK_FALSE(stemd::musicgpt::is_stem_key(key));
}

TEST_CASE("audio_path is never a link, wherever it appears") {
    const auto p = parsed(R"({"audio_path":"https://h/input.mp3","task_id":"t","success":true,
        "audio_url":"https://h/out.mp3"})");
    check_links(p.links, {{"audio", "", "https://h/out.mp3"}});
}

TEST_CASE("a plain URL in audio_url_wav is one file in wav unless audio_url has it") {
    const auto p = parsed(R"({"task_id":"t","audio_url":"https://h/a.mp3",
        "audio_url_wav":"https://h/a.wav"})");
    check_links(p.links, {{"audio", "", "https://h/a.mp3"}, {"audio", "wav", "https://h/a.wav"}});

    const auto same = parsed(R"({"task_id":"t","audio_url":"https://h/a.mp3",
        "audio_url_wav":"https://h/a.mp3"})");
    check_links(same.links, {{"audio", "", "https://h/a.mp3"}});
}

TEST_CASE("audio_url holding broken JSON or a non-URL yields no link from it") {
    const auto p =
        parsed(R"({"task_id":"t","audio_url":"{\"vocals\": ","vocal":"https://h/v.mp3"})");
    check_links(p.links, {{"vocal", "", "https://h/v.mp3"}});
    const auto q = parsed(R"({"task_id":"t","audio_url":"[\"https://h/v.mp3\"]"})");
    CHECK(q.links.empty());
}

TEST_CASE("links come in the same order for the same body") {
    const std::string body = R"({"task_id":"t","winds":"https://h/z.mp3","bass":"https://h/a.mp3",
        "audio_url":{"m":"https://h/m.mp3","b":"https://h/b.mp3"}})";
    const auto first = parsed(body);
    check_links(first.links, {{"m", "", "https://h/m.mp3"},
                              {"b", "", "https://h/b.mp3"},
                              {"winds", "", "https://h/z.mp3"},
                              {"bass", "", "https://h/a.mp3"}});
    const auto second = parsed(body);
    REQUIRE(second.links.size() == first.links.size());
    for (std::size_t i = 0; i < first.links.size(); ++i) {
        CHECK(second.links[i].name == first.links[i].name);
    }
}
