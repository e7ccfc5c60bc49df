#pragma once

// The daemon's replies, on both listeners: JSON bodies, one error shape
// ({"ok":false,"error":"<reason>"}), and the one map from a failure to its
// HTTP status. Included only by .cpp files (it pulls in Beast).

#include "common/error.hpp"
#include "listener/http_server.hpp"

#include <boost/json/object.hpp>

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace stemd::server {

// `body` serialized, with Content-Type application/json.
listener::response json_response(unsigned status, const boost::json::value& body);

// listener::error_body ({"ok":false,"error":reason}); callers may add
// fields to it.
using listener::error_body;
// An error_body reply.
listener::response error_response(unsigned status, std::string_view reason);
// An error_body reply with the failure's message, at http_status(e).
listener::response error_response(const stemd::error& e);

// "a", "a or b", "a, b or c": a list as a message reads it.
std::string spoken_list(std::span<const std::string_view> items);

// 405 "use GET or HEAD on <route>" (just "use POST" when `route` is empty)
// with the Allow header RFC 9110 requires of a 405: every 405 goes
// through here.
listener::response method_not_allowed(std::initializer_list<std::string_view> allowed,
                                      std::string_view route);

// The HTTP status a failure is answered with. Specific codes first:
// a body that is not JSON (jobs::error::malformed_request), a request the
// API cannot read (server::error::bad_request) and a webhook body that is
// not one of MusicGPT's (musicgpt::error) are 400; a signature that does
// not verify (server::signature_error) is 401; the API's access refusals
// are 401 (no token), 421 (foreign Host), 403 (foreign Origin or no CSRF
// token), 415 (body type) and 429 (sign-ins throttled). Then by condition:
// not_found 404, conflict 409, invalid 422, too_large 413, refused 403,
// unavailable 503, timeout 504, io and anything else 500.
unsigned http_status(const stemd::error& e);

// Whether an If-None-Match value ("*" or a list of entity tags) names
// `etag`; compared weakly, as RFC 9110 asks for If-None-Match.
bool etag_matches(std::string_view if_none_match, std::string_view etag);

} // namespace stemd::server
