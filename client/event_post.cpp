#include "client/event_post.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

namespace stemd::client {

namespace http = boost::beast::http;

boost::asio::awaitable<boost::system::result<unsigned>> post_event(const http_url& url,
                                                                   const signed_event& event,
                                                                   const connect_options& options,
                                                                   boost::asio::ssl::context& tls) {
    http::request<http::string_body> req{http::verb::post, url.target, 11};
    req.set(http::field::content_type, "application/json");
    req.set(http::field::user_agent, "stemd/" STEMD_VERSION);
    req.set("webhook-id", event.id);
    req.set("webhook-timestamp", event.timestamp);
    req.set("webhook-signature", event.signature);
    req.body() = event.body;
    // The answer's body is not read for anything; a small limit keeps a
    // receiver from making stemd hold much.
    auto answer = co_await exchange(url, std::move(req), options, tls, 64 * 1024);
    if (!answer)
        co_return answer.error();
    co_return answer->result_int();
}

} // namespace stemd::client
