#include "server/prune_route.hpp"

#include "common/log.hpp"
#include "jobs/service.hpp"
#include "server/error.hpp"
#include "server/reply.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include <cstdint>
#include <string>

namespace stemd::server {

namespace net = boost::asio;
namespace json = boost::json;

namespace {

// A century: longer ages are surely a mistake, and the cutoff stays far
// from overflowing.
constexpr std::int64_t max_age_seconds = 100LL * 366 * 86400;

stemd::error bad(std::string message) {
    return make_error(error::bad_request, std::move(message));
}

result<bool> flag(const json::object& o, std::string_view field, bool fallback) {
    const auto* v = o.if_contains(field);
    if (!v)
        return fallback;
    if (!v->is_bool())
        return bad(std::string(field) + " must be true or false");
    return v->get_bool();
}

result<jobs::prune_order> read_order(std::string_view body, bool delete_files_default) {
    boost::system::error_code ec;
    auto parsed = json::parse(body, ec);
    if (ec || !parsed.is_object())
        return bad("the body must be a JSON object like {\"older_than_seconds\": 2592000}");
    const auto& o = parsed.get_object();
    for (const auto& [key, value] : o)
        if (key != "older_than_seconds" && key != "dry_run" && key != "delete_files")
            return bad("unknown field \"" + std::string(key) +
                       "\"; known: older_than_seconds, dry_run, delete_files");
    const auto* age = o.if_contains("older_than_seconds");
    if (!age || !age->is_int64() || age->get_int64() < 0 || age->get_int64() > max_age_seconds)
        return bad("older_than_seconds must be a whole number of seconds from 0 to " +
                   std::to_string(max_age_seconds));
    auto dry = flag(o, "dry_run", false);
    if (!dry)
        return dry.error();
    auto files = flag(o, "delete_files", delete_files_default);
    if (!files)
        return files.error();
    return jobs::prune_order{now_millis() - age->get_int64() * 1000, *dry, *files && !*dry};
}

json::object summary_json(const jobs::prune_summary& s) {
    json::array listed;
    for (const auto& j : s.listed)
        listed.push_back(json::object{{"id", j.id},
                                      {"task_id", j.task_id},
                                      {"status", storage::to_string(j.status)},
                                      {"updated_at", rfc3339(j.updated_at)},
                                      {"files", j.files},
                                      {"bytes", j.bytes}});
    json::array kept;
    for (const auto& k : s.removed.kept)
        kept.push_back(json::string(k));
    return json::object{{"ok", true},
                        {"dry_run", s.order.dry_run},
                        {"cutoff", rfc3339(s.order.cutoff)},
                        {"delete_files", s.order.delete_files},
                        {"jobs", s.jobs},
                        {"files", s.files},
                        {"bytes", s.bytes},
                        {"files_deleted", s.removed.files},
                        {"bytes_deleted", s.removed.bytes},
                        {"folders_deleted", s.removed.directories},
                        {"left_in_place", std::move(kept)},
                        {"deliveries_forgotten", s.deliveries},
                        {"database_bytes_freed", s.bytes_freed},
                        {"listed", std::move(listed)},
                        {"listed_all", s.listed.size() == static_cast<std::size_t>(s.jobs)}};
}

} // namespace

net::awaitable<listener::response> prune_jobs(jobs::service& service,
                                              const listener::request& req) {
    auto order = read_order(req.body(), service.options().delete_files);
    if (!order)
        co_return error_response(order.error());
    auto done = co_await service.prune(*order);
    if (!done) {
        log_error("", "cannot prune jobs: " + done.error().message);
        co_return error_response(500, "cannot prune jobs in the database; see the stemd log");
    }
    if (!order->dry_run) {
        log_info("", jobs::describe(*done) + " (asked through the API)");
        for (const auto& k : done->removed.kept)
            log_warning("", "prune left in place " + k);
    }
    co_return json_response(200, summary_json(*done));
}

} // namespace stemd::server
