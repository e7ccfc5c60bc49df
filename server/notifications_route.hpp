#pragma once

// GET /v1/notifications?status=&limit=: the outbox, newest first, each
// event as in the job JSON plus its job_id, channel and created_at
// (`stemd notify list`). Included only by .cpp files.

#include "listener/http_server.hpp"

#include <boost/url/url_view.hpp>

namespace stemd::jobs {
class service;
}

namespace stemd::server {

listener::response list_notifications(jobs::service& service, const boost::urls::url_view& url);

} // namespace stemd::server
