// `stemd prune --older-than 30d`: retention by hand, through the daemon
// (which holds the database).

#include "cli/api_client.hpp"
#include "cli/command.hpp"
#include "cli/error.hpp"
#include "cli/format.hpp"
#include "cli/job_view.hpp"
#include "common/json_text.hpp"

#include <iostream>

namespace stemd::cli {

namespace {

namespace json = boost::json;
using boost::program_options::variables_map;

void describe(option_set& o) {
    o.value("older-than", "AGE",
            "prune finished jobs last changed more than AGE ago (30d, 12h, 90m)");
    o.flag("dry-run", "only show what would be removed; nothing is removed");
    o.flag("delete-files",
           "also delete the jobs' stem files, whatever retention.delete_files says");
    o.flag("keep-files", "keep the jobs' stem files, whatever retention.delete_files says");
    add_client_options(o);
}

bool flag(const variables_map& vm, const char* name) {
    return vm.count(name) && vm[name].as<bool>();
}

// The request body; usage errors before anything is sent.
result<std::string> prune_body(const variables_map& vm) {
    auto age_text = optional_string(vm, "older-than");
    if (!age_text)
        return usage_error("how old? give --older-than AGE, e.g. stemd prune --older-than 30d");
    auto age = parse_duration(*age_text, "older-than");
    if (!age)
        return age.error();
    if (flag(vm, "delete-files") && flag(vm, "keep-files"))
        return usage_error("--delete-files and --keep-files contradict each other; give one");
    json::object body{{"older_than_seconds", age->count()}, {"dry_run", flag(vm, "dry-run")}};
    if (flag(vm, "delete-files"))
        body["delete_files"] = true;
    if (flag(vm, "keep-files"))
        body["delete_files"] = false;
    return json_text(body);
}

std::int64_t number(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_int64() ? v->get_int64() : 0;
}

std::string text(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? printable(v->get_string()) : std::string();
}

bool yes(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_bool() && v->get_bool();
}

void print_jobs(std::ostream& out, const json::object& s) {
    const auto* listed = s.if_contains("listed");
    if (!listed || !listed->is_array() || listed->get_array().empty())
        return;
    std::vector<table_row> rows{{"ID", "STATUS", "TASK", "LAST CHANGE", "FILES", "BYTES"}};
    for (const auto& j : listed->get_array()) {
        if (!j.is_object())
            continue;
        const auto& o = j.get_object();
        rows.push_back({text(o, "id"), text(o, "status"), text(o, "task_id"), text(o, "updated_at"),
                        std::to_string(number(o, "files")),
                        human_bytes(static_cast<std::uint64_t>(number(o, "bytes")))});
    }
    print_table(out, rows, "  ");
    if (!yes(s, "listed_all"))
        out << "  (only the first " << rows.size() - 1 << " are listed)\n";
}

void print_summary(std::ostream& out, const json::object& s) {
    const bool dry = yes(s, "dry_run");
    const auto bytes = static_cast<std::uint64_t>(number(s, "bytes"));
    out << (dry ? "would remove " : "removed ") << number(s, "jobs") << " jobs and "
        << number(s, "files") << " files (" << human_bytes(bytes)
        << " recorded) last changed before " << text(s, "cutoff") << '\n';
    print_jobs(out, s);
    if (dry)
        out << "stem files: none removed on a dry run\n";
    else if (yes(s, "delete_files"))
        out << "stem files: deleted " << number(s, "files_deleted") << " ("
            << human_bytes(static_cast<std::uint64_t>(number(s, "bytes_deleted"))) << ") and "
            << number(s, "folders_deleted") << " empty folders\n";
    else
        out << "stem files: kept on disk (retention.delete_files is false, or --keep-files)\n";
    if (const auto* kept = s.if_contains("left_in_place"); kept && kept->is_array())
        for (const auto& k : kept->get_array())
            if (k.is_string())
                out << "left in place: " << printable(k.get_string()) << '\n';
    if (!dry && number(s, "database_bytes_freed") > 0)
        out << "database: gave back "
            << human_bytes(static_cast<std::uint64_t>(number(s, "database_bytes_freed"))) << '\n';
}

result<int> run(const variables_map& vm) {
    auto body = prune_body(vm);
    if (!body)
        return body.error();
    auto api = open_api(api_address_of(vm));
    if (!api)
        return api.error();
    auto a = api->call(method::post, "/v1/prune", *body);
    if (!a)
        return a.error();
    if (a->status != 200)
        return api->refusal(*a, "prune jobs");
    auto summary = api->object_of(*a);
    if (!summary)
        return summary.error();
    if (json_wanted(vm))
        print_raw(std::cout, a->body);
    else
        print_summary(std::cout, *summary);
    return exit_ok;
}

} // namespace

const command& prune_command() {
    static const command c{
        "prune",
        "--older-than AGE [--dry-run] [--delete-files | --keep-files] [--json]",
        "remove finished jobs older than AGE",
        "Removes completed and failed jobs last changed more than AGE ago from the database,\n"
        "as retention.keep_days does every hour. Their stem files are deleted only when\n"
        "retention.delete_files is true or --delete-files is given, and only beneath\n"
        "storage.output_dir (a symbolic link is never followed). Jobs still under way are\n"
        "never removed. --dry-run lists what would go and removes nothing.\n",
        describe,
        run,
    };
    return c;
}

} // namespace stemd::cli
