#include "musicgpt/webhook.hpp"

#include "common/text.hpp"
#include "musicgpt/error.hpp"
#include "musicgpt/fields.hpp"
#include "musicgpt/stem_map.hpp"

#include <boost/json.hpp>

#include <cmath>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

namespace stemd::musicgpt {

namespace json = boost::json;

namespace {

using optional_text = result<std::optional<std::string_view>>;

stemd::error problem(error e, std::string message) {
    return {make_error_code(e), std::move(message)};
}

stemd::error wrong_type(std::string_view field, std::string_view expected, const json::value& got) {
    return problem(error::bad_field, std::string(field) + " must be " + std::string(expected) +
                                         ", got a JSON " + kind_name(got));
}

bool is_one_of(std::string_view status, std::initializer_list<std::string_view> names) {
    for (const auto name : names) {
        if (iequals(status, name)) {
            return true;
        }
    }
    return false;
}

// A field that may be absent or null; any other type than string is a
// mistake the sender should hear about.
optional_text optional_string(const json::object& o, std::string_view field) {
    const auto* v = o.if_contains(field);
    if (v == nullptr || v->is_null()) {
        return std::optional<std::string_view>{};
    }
    if (const auto* s = v->if_string()) {
        return std::optional<std::string_view>{std::string_view(*s)};
    }
    return wrong_type(field, "a string", *v);
}

// Costs and durations are informational, so a value that cannot be read is
// dropped rather than failing a webhook that otherwise carries results.
std::optional<double> lenient_amount(const json::value* v) {
    const auto amount = number_in(v);
    if (!amount || !std::isfinite(*amount) || *amount < 0) {
        return std::nullopt;
    }
    return *amount == 0 ? 0.0 : *amount; // no "-0"
}

std::string first_message(const json::object& o) {
    for (const auto field : {"status_msg", "message", "error", "reason"}) {
        if (const auto* v = o.if_contains(field)) {
            if (const auto* s = v->if_string(); s != nullptr && !s->empty()) {
                return std::string(*s);
            }
        }
    }
    return {};
}

result<void> check_audio_fields(const json::object& o) {
    for (const auto field : {"audio_url", "audio_url_wav"}) {
        const auto* v = o.if_contains(field);
        if (v != nullptr && !v->is_null() && !v->is_string() && !v->is_object()) {
            return wrong_type(field, "a string or an object", *v);
        }
    }
    return {};
}

report::state state_of(std::optional<bool> success, std::optional<std::string_view> status) {
    if (success == false || (status && is_one_of(*status, {"FAILED", "ERROR"}))) {
        return report::state::failed;
    }
    if (status && !is_one_of(*status, {"COMPLETED", "SUCCESS", "SUCCEEDED"})) {
        return report::state::pending;
    }
    return report::state::succeeded;
}

result<std::string> task_id_of(const json::object& o) {
    const auto* task_id = o.if_contains("task_id");
    if (task_id == nullptr || task_id->is_null()) {
        return problem(error::missing_field, "task_id is missing");
    }
    if (!task_id->is_string()) {
        return wrong_type("task_id", "a string", *task_id);
    }
    if (task_id->get_string().empty()) {
        return problem(error::missing_field, "task_id is empty");
    }
    return std::string(task_id->get_string());
}

// The state and upstream_status of a record, from `success` and `status`.
result<void> read_state(const json::object& o, report& r) {
    std::optional<bool> success;
    if (const auto* v = o.if_contains("success"); v != nullptr && !v->is_null()) {
        if (!v->is_bool()) {
            return wrong_type("success", "a boolean", *v);
        }
        success = v->get_bool();
    }
    auto status = optional_string(o, "status");
    if (!status) {
        return status.error();
    }
    // An empty status says nothing; judge by `success` alone then.
    if (*status && (*status)->empty()) {
        status->reset();
    }
    r.what = state_of(success, *status);
    if (*status) {
        r.upstream_status = **status;
    } else {
        r.upstream_status = r.what == report::state::failed ? "FAILED" : "COMPLETED";
    }
    return {};
}

result<report> parse_object(const json::object& o) {
    report r;
    auto task_id = task_id_of(o);
    if (!task_id) {
        return task_id.error();
    }
    r.task_id = std::move(*task_id);

    auto conversion_id = optional_string(o, "conversion_id");
    if (!conversion_id) {
        return conversion_id.error();
    }
    r.conversion_id = conversion_id->value_or("");

    if (auto state = read_state(o, r); !state) {
        return state.error();
    }
    r.message = first_message(o);
    r.conversion_cost = lenient_amount(o.if_contains("conversion_cost"));
    r.conversion_duration = lenient_amount(o.if_contains("conversion_duration"));

    // Links are looked at only on success: a failure report must get through
    // even if it carries odd leftovers.
    if (r.what == report::state::succeeded) {
        if (auto checked = check_audio_fields(o); !checked) {
            return checked.error();
        }
        r.links = collect_links(o);
    }
    return r;
}

} // namespace

result<report> parse_webhook(std::string_view body) {
    if (body.empty()) {
        return problem(error::malformed_payload, "body is empty, expected a JSON object");
    }
    json::parser parser;
    boost::system::error_code ec;
    const auto consumed = parser.write(body.data(), body.size(), ec);
    if (ec) {
        return problem(error::malformed_payload, "body is not valid JSON: " + ec.message() +
                                                     " at offset " + std::to_string(consumed));
    }
    const auto value = parser.release();
    const auto* o = value.if_object();
    if (o == nullptr) {
        return problem(error::malformed_payload,
                       "body is a JSON " + kind_name(value) + ", expected an object");
    }
    return parse_object(*o);
}

result<report> parse_record(const json::value& record) {
    const auto* o = record.if_object();
    if (o == nullptr) {
        return problem(error::malformed_payload,
                       "conversion record is a JSON " + kind_name(record) + ", expected an object");
    }
    return parse_object(*o);
}

} // namespace stemd::musicgpt
