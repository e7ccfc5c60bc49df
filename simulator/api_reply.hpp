#pragma once

// MusicGPT's error body as the simulator answers it. Included only by the
// simulator's .cpp files (it brings in the listener's Beast types).

#include "common/error.hpp"
#include "listener/http_server.hpp"

namespace stemd::simulator {

// {"success": false, "error_code": ..., "message": ...} with the status of
// `e.code` (see error.hpp). Headers such as Retry-After are the caller's.
listener::reply api_error(const stemd::error& e);

} // namespace stemd::simulator
