#pragma once

// The MusicGPT Extraction API as stemd uses it: transport only, the wire
// format is musicgpt/'s. Included only by .cpp files.

#include "client/connection.hpp"
#include "common/error.hpp"
#include "musicgpt/by_id.hpp"
#include "musicgpt/submit.hpp"

#include <string>

namespace stemd::client {

struct musicgpt_options {
    std::string base_url;    // e.g. https://api.musicgpt.com/api/public (no trailing '/')
    std::string api_version; // "v1" or "v2"
    std::string api_key;     // sent raw in Authorization, never logged
    connect_options connect;
};

// What MusicGPT answered a status look-up of a task that does not exist:
// how `stemd doctor` learns whether the key is accepted (404
// RESOURCE_NOT_FOUND: it is; 401: it is not) and how MusicGPT's clock reads.
struct key_probe_answer {
    unsigned http_status = 0;
    std::string error_code; // MusicGPT's error_code, when the body had one
    std::string message;    // MusicGPT's message (the key removed)
    std::string date;       // the Date header, "" when none
};

// Both calls answer MusicGPT's refusal (its HTTP status, error_code,
// message and Retry-After, the API key never among them) as the reply's
// `refused`. Errors are for answers that never came (the configuration,
// the file to upload, the network: client::error codes) or cannot be used
// (musicgpt::error codes).
class musicgpt_client {
public:
    // `tls` must outlive the client.
    musicgpt_client(musicgpt_options options, boost::asio::ssl::context& tls);

    // POST {base}/{version}/Extraction as multipart/form-data.
    boost::asio::awaitable<result<musicgpt::submit_reply>> submit(const musicgpt::submission& s);

    // GET {base}/v1/byId?conversionType=EXTRACTION&task_id=...
    boost::asio::awaitable<result<musicgpt::status_reply>> by_id(const std::string& task_id);

    // A new key (SIGHUP) for the requests made from now on.
    void set_api_key(std::string key) { options_.api_key = std::move(key); }

    // GET byId for `task_id` (which should name no task), whatever the
    // answer; errors only when no answer came.
    boost::asio::awaitable<result<key_probe_answer>> probe_key(const std::string& task_id);

private:
    boost::asio::awaitable<result<boost::beast::http::response<boost::beast::http::string_body>>>
    ask_by_id(const std::string& task_id);

    musicgpt_options options_;
    boost::asio::ssl::context* tls_;
};

} // namespace stemd::client
