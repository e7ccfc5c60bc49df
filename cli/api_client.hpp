#pragma once

// The client of the local API (`stemd serve` at api.listen): JSON over HTTP
// on loopback, one request at a time. Asio and Beast stay in the .cpp.

#include "cli/api_address.hpp"
#include "client/multipart.hpp"
#include "client/url.hpp"
#include "common/error.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace boost::asio::ssl {
class context;
} // namespace boost::asio::ssl

namespace stemd::cli {

// One whole answer of the API.
struct answer {
    unsigned status = 0;
    std::string body;
};

enum class method { get, post };

// One event of a text/event-stream (GET /v1/events): its id: (or ""),
// event: and data: fields; comments (": ping") are not passed on.
struct stream_event {
    std::string id;
    std::string event;
    std::string data;
};

// How an event stream read by api_client::read_events ended.
enum class stream_end {
    stopped, // on_event asked to stop
    dropped, // the server closed it, or it went silent for longer than `silence`
};

class api_client {
public:
    // Every request carries `token` as "Authorization: Bearer".
    api_client(client::http_url base, std::string token,
               std::shared_ptr<boost::asio::ssl::context> tls);

    // One request to `target` (below the base URL) and its whole answer,
    // whatever its status; failing only when there is no usable answer.
    result<answer> call(method m, const std::string& target, std::string body = {}) const;

    // POST `form` to `target`, its file parts streamed from disk.
    result<answer> upload(const std::string& target, const client::multipart_form& form) const;

    // A request on /v1/jobs/KEY followed by `suffix`: "no job KEY" on 404,
    // refusal(`action` KEY) on anything but 200.
    result<answer> call_job(method m, const std::string& key, std::string_view suffix,
                            std::string_view action) const;

    // GET `target` as an event stream (with "Last-Event-ID: last_event_id"
    // when not empty): on_open once its header says 200, then on_event for
    // each event until on_event returns false or the stream ends. A
    // non-200 answer is refusal(`action`) (404: no_job); no connection at
    // all is error::unreachable.
    result<stream_end> read_events(const std::string& target, const std::string& last_event_id,
                                   std::chrono::milliseconds silence,
                                   const std::function<bool()>& on_open,
                                   const std::function<bool(const stream_event&)>& on_event,
                                   std::string_view action) const;

    // The answer's body as a JSON object.
    result<boost::json::object> object_of(const answer& a) const;

    // A non-2xx answer as a failure: the API's own "error" text, and for a
    // 502 what MusicGPT said.
    stemd::error refusal(const answer& a, std::string_view action) const;

private:
    std::string where() const;

    client::http_url base_;
    std::string prefix_; // path of the base URL, without the trailing '/'
    std::string token_;
    std::shared_ptr<boost::asio::ssl::context> tls_;
};

// A client of the API at api_base_url(address) with api_token(address).
result<api_client> open_api(const api_address& address);

} // namespace stemd::cli
