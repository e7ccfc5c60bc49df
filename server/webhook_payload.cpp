#include "server/webhook_payload.hpp"

#include "server/file_names.hpp"

#include <boost/json.hpp>
#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <map>
#include <set>
#include <tuple>
#include <utility>

namespace stemd::server {

namespace json = boost::json;

namespace {

using payload_result = boost::system::result<payload, payload_problem>;
using optional_text = boost::system::result<std::optional<std::string_view>, payload_problem>;

constexpr std::size_t max_name_bytes = 64; // safe_name's limit

payload_problem problem(error e, std::string reason) {
    return {make_error_code(e), std::move(reason)};
}

std::string kind_name(const json::value& v) {
    switch (v.kind()) {
    case json::kind::object:
        return "object";
    case json::kind::array:
        return "array";
    case json::kind::string:
        return "string";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
        return "number";
    case json::kind::bool_:
        return "boolean";
    case json::kind::null:
        return "null";
    }
    return "value";
}

payload_problem wrong_type(std::string_view field, std::string_view expected,
                           const json::value& got) {
    return problem(error::bad_field, std::string(field) + " must be " + std::string(expected) +
                                         ", got a JSON " + kind_name(got));
}

char ascii_upper(char c) {
    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_upper(a[i]) != ascii_upper(b[i])) {
            return false;
        }
    }
    return true;
}

bool starts_with_ignoring_case(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// Only http(s) links are worth handing to the downloader; anything with
// whitespace or control characters is not a URL a server would send.
bool is_http_url(std::string_view s) {
    std::size_t scheme = 0;
    if (starts_with_ignoring_case(s, "https://")) {
        scheme = 8;
    } else if (starts_with_ignoring_case(s, "http://")) {
        scheme = 7;
    } else {
        return false;
    }
    if (s.size() == scheme) {
        return false;
    }
    for (const char c : s) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte == 0x7F) {
            return false;
        }
    }
    return true;
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
    if (v == nullptr) {
        return std::nullopt;
    }
    double amount = 0;
    if (v->is_number()) {
        amount = v->to_number<double>();
    } else if (const auto* s = v->if_string()) {
        std::string_view text = *s;
        while (!text.empty() && text.front() == ' ') {
            text.remove_prefix(1);
        }
        while (!text.empty() && text.back() == ' ') {
            text.remove_suffix(1);
        }
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), amount);
        if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
            return std::nullopt;
        }
    } else {
        return std::nullopt;
    }
    if (!std::isfinite(amount) || amount < 0) {
        return std::nullopt;
    }
    return amount == 0 ? 0.0 : amount; // no "-0"
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

// Builds the list of files while keeping (subdir, name) unique: a second
// link under a taken name gets "-2", "-3", ..., unless it is the very same
// link again (same subdir, name before the suffix, and URL), which is dropped.
// Lookups go through sets and each name remembers its last suffix: one body
// may hold tens of thousands of keys that sanitize alike, and scanning the
// list for every candidate name made that cubic (minutes of CPU per body).
class link_list {
public:
    void add(std::string_view raw_name, std::string_view subdir, std::string_view url) {
        const auto base = safe_name(raw_name);
        if (!seen_.emplace(std::string(subdir), base, std::string(url)).second) {
            return;
        }
        auto name = base;
        if (taken_.contains({std::string(subdir), name})) {
            int& n = last_suffix_[{std::string(subdir), base}];
            do {
                n = std::max(n, 1) + 1;
                name = with_suffix(base, n);
            } while (taken_.contains({std::string(subdir), name}));
        }
        taken_.emplace(std::string(subdir), name);
        urls_.emplace(url);
        links_.push_back({std::move(name), std::string(subdir), std::string(url)});
    }

    bool has_url(std::string_view url) const { return urls_.find(url) != urls_.end(); }

    std::vector<stem_link> take() && { return std::move(links_); }

private:
    using key = std::pair<std::string, std::string>; // subdir, name

    static std::string with_suffix(const std::string& base, int n) {
        const auto suffix = "-" + std::to_string(n);
        // base is ASCII (safe_name made it so), so any cut is a valid one.
        return base.substr(0, max_name_bytes - suffix.size()) + suffix;
    }

    std::vector<stem_link> links_;
    std::set<key> taken_;
    std::map<key, int> last_suffix_; // subdir, base -> last "-N" given
    std::set<std::tuple<std::string, std::string, std::string>> seen_; // subdir, base, url
    std::set<std::string, std::less<>> urls_;
};

// The object behind a stem map: either the value itself or the JSON text
// held in a string (MusicGPT v2 sends the latter).
std::optional<json::object> stem_map_object(const json::value& v) {
    if (const auto* o = v.if_object()) {
        return *o;
    }
    if (const auto* s = v.if_string()) {
        boost::system::error_code ec;
        auto parsed = json::parse(*s, ec);
        if (!ec) {
            if (auto* o = parsed.if_object()) {
                return std::move(*o);
            }
        }
    }
    return std::nullopt;
}

// `skip` holds links whose URLs must not be fetched twice (the WAV map that
// repeats the MP3 links).
void add_stem_map(const json::object& map, std::string_view subdir, link_list& links,
                  const link_list* skip) {
    for (const auto& entry : map) {
        const auto* url = entry.value().if_string();
        if (url == nullptr || !is_http_url(*url)) {
            continue;
        }
        if (skip != nullptr && skip->has_url(*url)) {
            continue;
        }
        links.add(entry.key(), subdir, *url);
    }
}

// audio_url and audio_url_wav: a stem map, a plain URL (one file named
// "audio"), or nothing usable.
void add_audio_field(const json::value& v, std::string_view subdir, link_list& links,
                     const link_list* skip) {
    if (const auto map = stem_map_object(v)) {
        add_stem_map(*map, subdir, links, skip);
        return;
    }
    if (const auto* url = v.if_string(); url != nullptr && is_http_url(*url)) {
        if (skip == nullptr || !skip->has_url(*url)) {
            links.add("audio", subdir, *url);
        }
    }
}

boost::system::result<void, payload_problem> check_audio_field(const json::object& o,
                                                               std::string_view field) {
    const auto* v = o.if_contains(field);
    if (v == nullptr || v->is_null() || v->is_string() || v->is_object()) {
        return {};
    }
    return wrong_type(field, "a string or an object", *v);
}

boost::system::result<std::vector<stem_link>, payload_problem>
collect_links(const json::object& o) {
    for (const auto field : {"audio_url", "audio_url_wav"}) {
        if (auto checked = check_audio_field(o, field); !checked) {
            return checked.error();
        }
    }

    // audio_url first whatever its position, so the WAV map can be checked
    // against it and its files keep the plain names.
    link_list primary;
    if (const auto* v = o.if_contains("audio_url")) {
        add_audio_field(*v, "", primary, nullptr);
    }
    link_list all = primary;
    if (const auto* v = o.if_contains("audio_url_wav")) {
        add_audio_field(*v, "wav", all, &primary);
    }
    // Seed v1 puts one URL per stem at the top level. audio_path is the
    // input we sent, not a result.
    for (const auto& field : o) {
        const auto key = field.key();
        if (key == "audio_path" || key == "audio_url" || key == "audio_url_wav") {
            continue;
        }
        if (const auto* url = field.value().if_string(); url != nullptr && is_http_url(*url)) {
            all.add(key, "", *url);
        }
    }
    return std::move(all).take();
}

payload::state state_of(std::optional<bool> success, std::optional<std::string_view> status) {
    if (success == false || (status && is_one_of(*status, {"FAILED", "ERROR"}))) {
        return payload::state::failed;
    }
    if (status && !is_one_of(*status, {"COMPLETED", "SUCCESS", "SUCCEEDED"})) {
        return payload::state::pending;
    }
    return payload::state::succeeded;
}

payload_result parse_object(const json::object& o) {
    payload p;

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
    p.task_id = task_id->get_string();

    auto conversion_id = optional_string(o, "conversion_id");
    if (!conversion_id) {
        return conversion_id.error();
    }
    p.conversion_id = conversion_id->value_or("");

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

    p.what = state_of(success, *status);
    if (*status) {
        p.upstream_status = **status;
    } else {
        p.upstream_status = p.what == payload::state::failed ? "FAILED" : "COMPLETED";
    }
    p.message = first_message(o);
    p.conversion_cost = lenient_amount(o.if_contains("conversion_cost"));
    p.conversion_duration = lenient_amount(o.if_contains("conversion_duration"));

    // Links are looked at only on success: a failure report must get through
    // even if it carries odd leftovers.
    if (p.what == payload::state::succeeded) {
        auto links = collect_links(o);
        if (!links) {
            return links.error();
        }
        p.links = std::move(*links);
    }
    return p;
}

} // namespace

void throw_exception_from_error(const payload_problem& p, const boost::source_location& loc) {
    boost::throw_exception(boost::system::system_error(p.code, p.reason), loc);
}

payload_result parse_webhook(std::string_view body) {
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

payload_result parse_record(const json::value& record) {
    const auto* o = record.if_object();
    if (o == nullptr) {
        return problem(error::malformed_payload,
                       "conversion record is a JSON " + kind_name(record) + ", expected an object");
    }
    return parse_object(*o);
}

std::optional<std::vector<stem_link>> parse_stem_map(const json::value& v,
                                                     std::string_view subdir) {
    const auto map = stem_map_object(v);
    if (!map) {
        return std::nullopt;
    }
    link_list links;
    add_stem_map(*map, subdir, links, nullptr);
    return std::move(links).take();
}

} // namespace stemd::server
