#include "cli/job_view.hpp"

#include "cli/format.hpp"
#include "client/url.hpp"
#include "common/json_text.hpp"
#include "common/text.hpp"
#include "storage/states.hpp"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <ostream>
#include <vector>

namespace stemd::cli {

namespace {

namespace json = boost::json;

std::string list_field(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v || !v->is_array())
        return {};
    std::vector<std::string> items;
    for (const auto& item : v->get_array())
        items.push_back(item.is_string() ? printable(item.get_string()) : json_text(item));
    return join(items, ", ");
}

const json::array* files_of(const json::object& job) {
    const auto* files = job.if_contains("files");
    return files && files->is_array() ? &files->get_array() : nullptr;
}

std::string with_unit(const std::string& value, std::string_view unit) {
    return value.empty() ? value : value + std::string(unit);
}

void print_detail(std::ostream& out, std::string_view label, const std::string& value) {
    if (value.empty())
        return;
    std::string line = "  " + std::string(label);
    line.resize(std::max<std::size_t>(line.size() + 2, 17), ' ');
    out << line << value << '\n';
}

// Query strings of a link may carry tokens; the user's terminal gets no more
// of them than a log would.
std::string source_of(const json::object& job) {
    if (auto url = text_field(job, "audio_url"); !url.empty())
        return client::redact(url);
    return text_field(job, "audio_file");
}

std::string cost_of(const json::object& job) {
    const auto cost = text_field(job, "conversion_cost");
    const auto estimate = text_field(job, "credit_estimate");
    if (cost.empty())
        return estimate.empty() ? "" : "estimated " + estimate + " credits";
    return cost + " credits" + (estimate.empty() ? "" : " (estimated " + estimate + ")");
}

table_row file_row(const json::object& file) {
    const auto bytes = unsigned_field(file, "bytes");
    const auto sha = text_field(file, "sha256");
    auto where = text_field(file, "path");
    if (where.empty())
        where = text_field(file, "name");
    if (const auto error = text_field(file, "error"); !error.empty())
        where += "  (attempt " + text_field(file, "attempts") + ": " + error + ")";
    return {text_field(file, "status"), bytes && *bytes > 0 ? human_bytes(*bytes) : "-",
            sha.empty() ? "-" : sha.substr(0, 12), where};
}

void print_files(std::ostream& out, const json::object& job) {
    const auto* files = files_of(job);
    if (!files || files->empty()) {
        out << (is_final(text_field(job, "status")) ? "files: none\n" : "files: none yet\n");
        return;
    }
    out << "files: " << files_done(job) << " done\n";
    std::vector<table_row> rows{{"STATUS", "BYTES", "SHA256", "PATH"}};
    for (const auto& file : *files) {
        if (file.is_object())
            rows.push_back(file_row(file.get_object()));
    }
    print_table(out, rows, "  ");
}

} // namespace

std::string text_field(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v || v->is_null())
        return {};
    if (v->is_string())
        return printable(v->get_string());
    if (v->is_bool())
        return v->get_bool() ? "yes" : "no";
    if (v->is_double())
        return number_text(v->get_double());
    return printable(json_text(*v));
}

std::optional<std::uint64_t> unsigned_field(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v)
        return std::nullopt;
    if (v->is_uint64())
        return v->get_uint64();
    if (v->is_int64() && v->get_int64() >= 0)
        return static_cast<std::uint64_t>(v->get_int64());
    return std::nullopt;
}

std::string files_done(const json::object& job) {
    const auto* files = files_of(job);
    if (!files)
        return "0/0";
    const auto done = std::count_if(files->begin(), files->end(), [](const json::value& f) {
        return f.is_object() && text_field(f.get_object(), "status") == "done";
    });
    return std::to_string(done) + "/" + std::to_string(files->size());
}

bool is_final(std::string_view status) {
    const auto parsed = storage::parse_job_status(status);
    return parsed && storage::is_final(*parsed);
}

void print_job(std::ostream& out, const json::object& job) {
    const auto status = text_field(job, "status");
    out << "job " << text_field(job, "id") << "  " << status << '\n';
    print_detail(out, "task id", text_field(job, "task_id"));
    print_detail(out, "conversion id", text_field(job, "conversion_id"));
    print_detail(out, "MusicGPT says", text_field(job, "upstream_status"));
    print_detail(out, "source", source_of(job));
    print_detail(out, "stems", list_field(job, "stems"));
    print_detail(out, "preprocessing", list_field(job, "preprocessing_options"));
    if (text_field(job, "eco_mode") == "yes")
        print_detail(out, "eco mode", "yes");
    print_detail(out, "created", text_field(job, "created_at"));
    print_detail(out, "updated", text_field(job, "updated_at"));
    if (!is_final(status))
        print_detail(out, "eta", with_unit(text_field(job, "eta"), " s"));
    print_detail(out, "cost", cost_of(job));
    print_detail(out, "duration", with_unit(text_field(job, "conversion_duration"), " s"));
    print_detail(out, "error", text_field(job, "error"));
    print_files(out, job);
}

void print_raw(std::ostream& out, const std::string& body) {
    out << body;
    if (body.empty() || body.back() != '\n')
        out << '\n';
}

void show_job(std::ostream& out, const std::string& body, const json::object& job, bool as_json) {
    if (as_json)
        print_raw(out, body);
    else
        print_job(out, job);
}

} // namespace stemd::cli
