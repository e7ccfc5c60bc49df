#pragma once

// The page's sign-in on the local API: POST /v1/session (the token or a
// one-time code in, a session cookie and its CSRF token out), GET
// /v1/session (is this cookie's session alive, and its CSRF token), DELETE
// /v1/session (sign out), POST /v1/session/code (a one-time code for
// `stemd open`). Who may reach which was decided by api_access already.
// Included only by .cpp files (it pulls in Beast).

#include "common/time.hpp"
#include "listener/http_server.hpp"

#include <optional>
#include <string_view>

namespace stemd::server {

class api_access;
class session_book;

// Whether `path` is one of these routes.
bool is_session_route(std::string_view path);

// The answer to a request on a session route (is_session_route(path)).
// Nothing here logs the token, a cookie, a CSRF token or a code.
listener::response handle_session(const listener::request& req, std::string_view path,
                                  const api_access& access, session_book& sessions, millis now);

} // namespace stemd::server
