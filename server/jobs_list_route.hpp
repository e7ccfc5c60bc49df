#pragma once

// GET /v1/jobs (one page of the list), GET /v1/counts and GET /metrics:
// the routes that read many jobs at once. Included only by .cpp files.

#include "common/error.hpp"
#include "listener/http_server.hpp"

#include <boost/url/url_view.hpp>

#include <string>

namespace stemd::jobs {
class service;
}

namespace stemd::server {

// A ?limit= value: a whole number from 1 to `most`, else a bad_request
// saying so.
result<int> read_limit(const std::string& text, int most);

// GET /v1/jobs?status=&limit=&since=&before=: one page, newest first, and
// the cursor of the next one (null on the last page).
listener::response list_jobs(jobs::service& service, const boost::urls::url_view& url);

// GET /v1/counts: how many jobs there are, by status (the page's filter).
listener::response job_counts(jobs::service& service);

// GET /metrics: the Prometheus text format, the store read at scrape time.
listener::response metrics(jobs::service& service);

} // namespace stemd::server
