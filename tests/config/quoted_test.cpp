#include "config/quoted.hpp"

#include <doctest/doctest.h>

using stemd::config::toml_quoted;

TEST_CASE("config: toml_quoted escapes like TOML and cuts URL queries off") {
    CHECK(toml_quoted("plain") == "\"plain\"");
    CHECK(toml_quoted("a\"b\\c") == "\"a\\\"b\\\\c\"");
    CHECK(toml_quoted("tab\there\x7f") == "\"tab\\u0009here\\u007f\"");
    CHECK(toml_quoted("https://example.test/x?token=hush#f") == "\"https://example.test/x?...\"");
    // Without a scheme it is not a URL, so '?' is just a character.
    CHECK(toml_quoted("what?") == "\"what?\"");
}
