#include "server/notifications_route.hpp"

#include "common/log.hpp"
#include "common/time.hpp"
#include "common/whole_number.hpp"
#include "jobs/service.hpp"
#include "server/error.hpp"
#include "server/job_json.hpp"
#include "server/reply.hpp"

#include <boost/json/array.hpp>

#include <array>
#include <optional>
#include <string>

namespace stemd::server {

namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 4> statuses = {
    storage::notification_status::pending, storage::notification_status::delivered,
    storage::notification_status::refused, storage::notification_status::failed};

struct notifications_query {
    std::optional<std::string_view> status;
    int limit = 100;
};

result<notifications_query> read_query(const boost::urls::url_view& url) {
    notifications_query q;
    for (auto param : url.params()) {
        if (param.key == "status" && !param.value.empty()) {
            const auto* known = std::find(statuses.begin(), statuses.end(), param.value);
            if (known == statuses.end())
                return make_error(error::bad_request,
                                  "unknown status \"" + param.value +
                                      "\"; use pending, delivered, refused or failed");
            q.status = *known;
        } else if (param.key == "limit") {
            const auto n = whole_number<int>(param.value);
            if (!n || *n < 1 || *n > 1000)
                return make_error(error::bad_request, "limit must be a number from 1 to 1000");
            q.limit = *n;
        }
    }
    return q;
}

} // namespace

listener::response list_notifications(jobs::service& service, const boost::urls::url_view& url) {
    auto query = read_query(url);
    if (!query)
        return error_response(query.error());
    auto found = service.notifications(query->status, query->limit);
    if (!found) {
        log_error("", "cannot list notifications: " + found.error().message);
        return error_response(500,
                              "cannot read notifications from the database; see the stemd log");
    }
    json::array out;
    for (const auto& n : *found) {
        json::object o = notification_to_json(n);
        o["job_id"] = n.job_id;
        o["channel"] = n.channel;
        o["created_at"] = rfc3339(n.created_at);
        out.push_back(std::move(o));
    }
    return json_response(200, json::object{{"ok", true}, {"notifications", std::move(out)}});
}

} // namespace stemd::server
