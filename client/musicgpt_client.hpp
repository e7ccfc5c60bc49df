#pragma once

// The MusicGPT Extraction API as stemd uses it. Included only by .cpp files.

#include "client/connection.hpp"

#include <boost/json/object.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace stemd::client {

struct musicgpt_options {
    std::string base_url;    // e.g. https://api.musicgpt.com/api/public (no trailing '/')
    std::string api_version; // "v1" or "v2"
    std::string api_key;     // sent raw in Authorization, never logged
    connect_options connect;
};

struct submit_request {
    std::string audio_url;                 // either this
    std::filesystem::path audio_file;      // or this (streamed from disk)
    std::string stems_json;                // JSON list text, "" to omit
    std::string preprocessing_options_json;// JSON list text, "" to omit
    bool eco_mode = false;                 // sent for v2 only
    std::string webhook_url;               // "" to omit
};

struct submit_answer {
    std::string task_id;
    std::string conversion_id;
    std::optional<double> eta;
    std::optional<double> credit_estimate;
    std::string status; // "IN_QUEUE" for v2; "" for v1
};

// Why MusicGPT did not give what was asked: http_status is 0 when the
// request never got an HTTP answer (DNS, TLS, timeout...).
struct api_failure {
    boost::system::error_code code;
    unsigned http_status = 0;
    std::string error_code; // MusicGPT's error_code, e.g. INSUFFICIENT_CREDITS
    std::string message;    // MusicGPT's message or a description of the fault
    std::optional<double> retry_after_seconds; // from Retry-After on 429/503
};
[[noreturn]] void throw_exception_from_error(const api_failure& f,
                                             const boost::source_location& loc);

class musicgpt_client {
public:
    // `tls` must outlive the client.
    musicgpt_client(musicgpt_options options, boost::asio::ssl::context& tls);

    // POST {base}/{version}/Extraction as multipart/form-data.
    boost::asio::awaitable<boost::system::result<submit_answer, api_failure>>
    submit(const submit_request& r);

    // GET {base}/v1/byId?conversionType=EXTRACTION&task_id=... ; the
    // `conversion` object of the answer.
    boost::asio::awaitable<boost::system::result<boost::json::object, api_failure>>
    by_id(const std::string& task_id);

private:
    musicgpt_options options_;
    boost::asio::ssl::context* tls_;
};

} // namespace stemd::client
