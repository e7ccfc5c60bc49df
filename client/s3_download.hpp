#pragma once

// Streams one remote file into an S3 object (client/s3_upload.hpp) instead
// of a local file: the same link checks, redirects and limits as
// downloader.hpp, with no copy of the file on local disk. Included only by
// .cpp files.

#include "client/downloader.hpp"
#include "client/s3_client.hpp"
#include "client/s3_upload.hpp"

#include <string>

namespace stemd::client {

struct s3_download_request {
    std::string url; // signed link (never logged whole)
    // The object key without extension ("prefix/task/subdir/name"); the
    // extension is chosen as downloader.hpp chooses it.
    std::string key_base;
    std::string fallback_extension = "bin";
    download_progress* progress = nullptr; // as in download_request
    // The smallest part; raised for a long body so that it fits in S3's
    // 10,000 parts (s3_part_size_for).
    std::size_t part_size = s3_part_size;
    std::string job_id; // for the log lines of the upload; "" when none
};

// Downloads `r.url` into the object {key_base}.{ext} through a multipart
// upload, completed only when the body's length matches Content-Length;
// any failure aborts the upload. There is no resume: S3 has no object to
// append to, so a retry downloads and uploads the whole file again (the
// upload an interrupted attempt or a dead process left behind is aborted
// when the next attempt begins). Failures are client::error codes as for
// download(); S3's own refusals keep S3's message.
boost::asio::awaitable<result<s3_stored>> download_to_s3(const s3_download_request& r,
                                                         const download_options& options,
                                                         boost::asio::ssl::context& tls,
                                                         s3_client& s3);

} // namespace stemd::client
