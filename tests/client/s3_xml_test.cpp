#include "client/s3_xml.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace stemd::client;

TEST_CASE("s3_xml: element text with entities decoded") {
    const std::string error =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
        "<Message>a &amp; b &lt;c&gt; &#233;&#x41;</Message></Error>";
    CHECK(s3_xml::is_error(error));
    CHECK(s3_xml::text(error, "Code") == "NoSuchKey");
    CHECK(s3_xml::text(error, "Message") == "a & b <c> \xc3\xa9"
                                            "A");
    CHECK_FALSE(s3_xml::text(error, "Resource"));
    CHECK_FALSE(s3_xml::text("<Code>unterminated", "Code"));
    CHECK_FALSE(
        s3_xml::text("<Code>" + std::string(s3_xml::max_text + 1, 'x') + "</Code>", "Code"));
    CHECK_FALSE(s3_xml::is_error("<InitiateMultipartUploadResult><Error>x</Error>"));
}

TEST_CASE("s3_xml: the uploads of a listing") {
    const std::string listing =
        "<ListMultipartUploadsResult><Bucket>b</Bucket>"
        "<Upload><Key>a&amp;b.mp3</Key><UploadId>1</UploadId></Upload>"
        "<Upload><Key>c.mp3</Key></Upload>"
        "<Upload><Key>d.mp3</Key><UploadId>3</UploadId></Upload></ListMultipartUploadsResult>";
    const auto uploads = s3_xml::uploads(listing);
    REQUIRE(uploads.size() == 2);
    CHECK(uploads[0] == std::pair<std::string, std::string>{"a&b.mp3", "1"});
    CHECK(uploads[1] == std::pair<std::string, std::string>{"d.mp3", "3"});
    CHECK(s3_xml::escape("\"e&t<a>g\"") == "\"e&amp;t&lt;a&gt;g\"");
}
