// libFuzzer target: musicgpt::parse_webhook on arbitrary bytes, as the webhook
// listener hands it a request body.

#include "musicgpt/webhook.hpp"

#include "tests/fuzz/fuzz_check.hpp"
#include "tests/fuzz/links_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    auto parsed = stemd::musicgpt::parse_webhook(body);
    if (!parsed) {
        // A refusal is answered with a 400 whose body is this reason.
        FUZZ_CHECK(parsed.error().code);
        FUZZ_CHECK(!parsed.error().message.empty());
        return 0;
    }
    const auto& p = *parsed;
    FUZZ_CHECK(!p.task_id.empty());
    FUZZ_CHECK(!p.upstream_status.empty());
    // Only a success carries files; a failure report must not start downloads.
    if (p.what != stemd::musicgpt::report::state::succeeded)
        FUZZ_CHECK(p.links.empty());
    stemd::fuzz::check_links(p.links);
    for (const auto& link : p.links)
        for (const char c : link.url)
            FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 && c != 0x7F);
    return 0;
}
