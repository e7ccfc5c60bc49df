#pragma once

// A job's file kept as an S3 object (recorded path "s3://bucket/key"), as
// the API serves it: GET and HEAD are redirected to a presigned URL of the
// object, so Range, ETag and the page's <audio> are the object store's;
// work that needs the bytes (a waveform) fetches the object to a moment's
// temporary file. Included only by .cpp files (listener types).

#include "common/error.hpp"
#include "listener/http_server.hpp"
#include "server/stem_files.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>

namespace stemd::jobs {
class object_store;
}

namespace stemd::server {

// How long the URL a redirect gives stays valid.
inline constexpr std::chrono::seconds presigned_lifetime{15 * 60};

// 302 to a presigned URL of the record's object signed for `method` (HEAD
// for a HEAD, else GET: SigV4 signs the method, and a client follows a 302
// with the method it used). Cache-Control: no-store: the URL expires, so
// neither the redirect nor the URL may be kept.
listener::reply object_redirect(jobs::object_store& objects, const storage::file_record& record,
                                boost::beast::http::verb method);

// The object fetched to a temporary file beneath `scratch_dir`, opened and
// already unlinked (nothing stays behind), checked against the recorded
// size. Errors: server::error::no_such_file when the object is gone, else
// the S3 client's.
boost::asio::awaitable<result<stem_file>> fetch_object(jobs::object_store& objects,
                                                       const storage::file_record& record);

} // namespace stemd::server
