// libFuzzer target: musicgpt::parse_stem_map, on the bytes parsed as JSON (when
// they are JSON) and on a JSON string holding the bytes (MusicGPT v2 sends
// its stem map as a string that holds JSON).

#include "musicgpt/stem_map.hpp"

#include "tests/fuzz/fuzz_check.hpp"
#include "tests/fuzz/links_check.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

void check(const boost::json::value& v, std::string_view subdir) {
    auto links = stemd::musicgpt::parse_stem_map(v, subdir);
    if (!links) {
        // Only a non-object, or a string that does not hold an object, is
        // "not a stem map".
        FUZZ_CHECK(!v.is_object());
        return;
    }
    stemd::fuzz::check_links(*links);
    for (const auto& link : *links)
        FUZZ_CHECK(link.subdir == subdir);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    boost::system::error_code ec;
    const auto parsed = boost::json::parse(text, ec);
    if (!ec) {
        check(parsed, "");
        check(parsed, "wav");
    }

    const boost::json::value held(boost::json::string(text.begin(), text.end()));
    check(held, "");
    // The same text parsed from a string and directly must agree.
    if (!ec && parsed.is_object()) {
        auto direct = stemd::musicgpt::parse_stem_map(parsed, "");
        auto indirect = stemd::musicgpt::parse_stem_map(held, "");
        FUZZ_CHECK(direct && indirect);
        FUZZ_CHECK(direct->size() == indirect->size());
        for (std::size_t i = 0; i < direct->size(); ++i) {
            FUZZ_CHECK((*direct)[i].name == (*indirect)[i].name);
            FUZZ_CHECK((*direct)[i].url == (*indirect)[i].url);
        }
    }
    return 0;
}
