#pragma once

// The little of S3's XML stemd reads, without an XML library: the text of
// an element by name, bounded in size, with the five predefined entities
// and numeric character references decoded. S3's answers are flat and
// machine-written, which is what makes this enough.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stemd::client::s3_xml {

// Longest element text returned; longer ones are treated as absent.
inline constexpr std::size_t max_text = 4096;
// Most <Upload> entries read from one listing.
inline constexpr std::size_t max_uploads = 10000;

// The decoded text of the first <tag>...</tag> in `xml` at or after
// `from`; nullopt when absent, unterminated or over max_text.
std::optional<std::string> text(std::string_view xml, std::string_view tag, std::size_t from = 0);

// Each <Upload> of a ListMultipartUploadsResult as (Key, UploadId).
std::vector<std::pair<std::string, std::string>> uploads(std::string_view xml);

// True when the document's root element is <Error> (S3 may answer 200 to
// CompleteMultipartUpload and still fail in the body).
bool is_error(std::string_view xml);

// Element text escaped for the body of a request.
std::string escape(std::string_view s);

} // namespace stemd::client::s3_xml
