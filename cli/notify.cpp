// `stemd notify list`: the events stemd sent (or is sending) to the user's
// app, newest first.

#include "cli/api_client.hpp"
#include "cli/command.hpp"
#include "cli/error.hpp"
#include "cli/format.hpp"
#include "cli/job_view.hpp"
#include "common/text.hpp"

#include <boost/json/value.hpp>

#include <iostream>

namespace stemd::cli {

namespace {

using boost::program_options::variables_map;
namespace json = boost::json;

void describe(option_set& o) {
    o.hidden.add_options()("action", boost::program_options::value<std::string>());
    o.positional.add("action", 1);
    o.value("status", "S", "only events in this state: pending, delivered, refused, failed");
    o.value("limit", "N", "at most N events, newest first");
    add_client_options(o);
}

result<std::string> list_target(const variables_map& vm) {
    std::string query;
    if (auto status = optional_string(vm, "status"))
        query += "status=" + percent_encode(*status) + "&";
    if (auto limit_text = optional_string(vm, "limit")) {
        auto limit = parse_count(*limit_text, "limit");
        if (!limit || *limit == 0)
            return usage_error("--limit takes a whole number of 1 or more");
        query += "limit=" + std::to_string(*limit) + "&";
    }
    if (!query.empty())
        query.pop_back();
    return "/v1/notifications" + (query.empty() ? "" : "?" + query);
}

std::string text_of(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v || v->is_null())
        return "-";
    if (v->is_string())
        return printable(v->get_string(), 200);
    if (v->is_int64())
        return std::to_string(v->get_int64());
    return "-";
}

std::vector<table_row> rows_of(const json::array& events) {
    std::vector<table_row> rows{
        {"ID", "EVENT", "JOB", "CHANNEL", "STATUS", "ATTEMPTS", "WHEN", "LAST ERROR"}};
    for (const auto& e : events) {
        if (!e.is_object())
            continue;
        const auto& o = e.get_object();
        const std::string when = text_of(o, "delivered_at") != "-"
                                     ? text_of(o, "delivered_at")
                                     : "next " + text_of(o, "next_attempt_at");
        rows.push_back(
            {text_of(o, "id"), text_of(o, "event"), text_of(o, "job_id"), text_of(o, "channel"),
             text_of(o, "status"), text_of(o, "attempts"),
             text_of(o, "status") == "pending" || text_of(o, "status") == "delivered" ? when : "-",
             text_of(o, "last_error")});
    }
    return rows;
}

result<int> run(const variables_map& vm) {
    const auto action = optional_string(vm, "action");
    if (!action || *action != "list")
        return usage_error("stemd notify takes the action \"list\": stemd notify list "
                           "[--status S] [--limit N]");
    auto target = list_target(vm);
    if (!target)
        return target.error();
    auto api = open_api(api_address_of(vm));
    if (!api)
        return api.error();
    auto a = api->call(method::get, *target);
    if (!a)
        return a.error();
    if (a->status != 200)
        return api->refusal(*a, "list notifications");
    auto listing = api->object_of(*a);
    if (!listing)
        return listing.error();
    if (json_wanted(vm)) {
        print_raw(std::cout, a->body);
        return exit_ok;
    }
    const auto* events = listing->if_contains("notifications");
    if (!events || !events->is_array())
        return failure(error::bad_answer, "the stemd API answered without a notifications list");
    if (events->get_array().empty()) {
        std::cout << "no notifications\n";
        return exit_ok;
    }
    print_table(std::cout, rows_of(events->get_array()), "");
    return exit_ok;
}

} // namespace

const command& notify_command() {
    static const command c{
        "notify",
        "list [--status S] [--limit N] [--json]",
        "list the events sent to your app ([notify]), newest first",
        "One line per event: its webhook-id, type (job.completed, job.failed), job,\n"
        "channel (url, command), status (pending, delivered, refused, failed), attempts,\n"
        "when it was delivered or is tried next, and the last error.\n",
        describe,
        run,
    };
    return c;
}

} // namespace stemd::cli
