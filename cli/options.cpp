#include "cli/options.hpp"

#include "cli/error.hpp"
#include "cli/format.hpp"

#include <boost/program_options/errors.hpp>
#include <boost/program_options/parsers.hpp>
#include <boost/program_options/value_semantic.hpp>

#include <charconv>
#include <cmath>
#include <system_error>
#include <utility>

namespace stemd::cli {

namespace po = boost::program_options;

void option_set::value(const char* name, const char* value_name, const char* text) {
    visible.add_options()(name, po::value<std::string>()->value_name(value_name), text);
}

void option_set::value(const char* name, const char* value_name, const std::string& default_value,
                       const char* text) {
    visible.add_options()(
        name, po::value<std::string>()->value_name(value_name)->default_value(default_value), text);
}

void option_set::list(const char* name, const char* value_name, const char* text) {
    visible.add_options()(
        name, po::value<std::vector<std::string>>()->value_name(value_name)->composing(), text);
}

void option_set::flag(const char* name, const char* text) {
    visible.add_options()(name, po::bool_switch(), text);
}

void add_client_options(option_set& o) {
    o.flag("json", "print the API's JSON instead of text");
    o.value("api", "URL",
            "base URL of the stemd API, e.g. http://127.0.0.1:8081 (default: api.listen of the "
            "configuration)");
    o.value("config,c", "FILE", "configuration file to take api.listen and api.token_file from");
    o.value("token-file", "FILE",
            "file holding the API token (default: $STEMD_API_TOKEN, else api.token_file of the "
            "configuration)");
}

void add_key_argument(option_set& o) {
    o.hidden.add_options()("key", po::value<std::string>());
    o.positional.add("key", 1);
}

void add_timeout_option(option_set& o, const char* text) {
    o.value("timeout", "SECONDS", text);
}

result<po::variables_map> parse_arguments(const option_set& options,
                                          const std::vector<std::string>& args) {
    po::options_description all;
    all.add(options.visible).add(options.hidden);
    // No abbreviations: "--ur" meaning "--url" today could mean something
    // else once another option is added.
    const int style =
        po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args)
                      .options(all)
                      .positional(options.positional)
                      .style(style)
                      .run(),
                  vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return usage_error(e.what());
    }
    return vm;
}

result<std::uint64_t> parse_count(const std::string& text, std::string_view option) {
    std::uint64_t value = 0;
    const char* end = text.data() + text.size();
    const auto [stop, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || stop != end)
        return usage_error("--" + std::string(option) +
                           " takes a whole number of 0 or more, not \"" + printable(text, 40) +
                           "\"");
    return value;
}

result<std::chrono::milliseconds> parse_seconds(const std::string& text, std::string_view option) {
    double value = 0;
    const char* end = text.data() + text.size();
    const auto [stop, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || stop != end || !std::isfinite(value) || value < 0 ||
        value > 1e9)
        return usage_error("--" + std::string(option) +
                           " takes a number of seconds such as 90 or 0.5, not \"" +
                           printable(text, 40) + "\"");
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(value * 1000)));
}

result<std::chrono::seconds> parse_duration(const std::string& text, std::string_view option) {
    const auto bad = [&] {
        return usage_error("--" + std::string(option) +
                           " takes a whole number with a unit, s, m, h, d or w, such as 30d, "
                           "12h or 90m, not \"" +
                           printable(text, 40) + "\"");
    };
    if (text.size() < 2)
        return bad();
    std::int64_t unit = 0;
    switch (text.back()) {
    case 's':
        unit = 1;
        break;
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86400;
        break;
    case 'w':
        unit = 7 * 86400;
        break;
    default:
        return bad();
    }
    std::int64_t count = 0;
    const char* end = text.data() + text.size() - 1;
    const auto [stop, ec] = std::from_chars(text.data(), end, count);
    // Up to a century, so the seconds never overflow on the way.
    if (ec != std::errc{} || stop != end || count < 0 || count > 36600LL * 86400 / unit)
        return bad();
    return std::chrono::seconds(count * unit);
}

std::optional<std::string> optional_string(const po::variables_map& vm, const char* name) {
    if (!vm.count(name))
        return std::nullopt;
    return vm[name].as<std::string>();
}

std::optional<std::filesystem::path> config_path(const po::variables_map& vm) {
    if (auto path = optional_string(vm, "config"))
        return std::filesystem::path(*path);
    return std::nullopt;
}

bool json_wanted(const po::variables_map& vm) {
    return vm.count("json") && vm["json"].as<bool>();
}

api_address api_address_of(const po::variables_map& vm) {
    std::optional<std::filesystem::path> token_file;
    if (auto path = optional_string(vm, "token-file"))
        token_file = *path;
    return {optional_string(vm, "api"), config_path(vm), token_file};
}

result<std::optional<std::vector<std::string>>>
list_option(const po::variables_map& vm, const char* name, std::string_view example) {
    if (!vm.count(name))
        return std::optional<std::vector<std::string>>{};
    auto items = split_list(vm[name].as<std::vector<std::string>>());
    if (items.empty())
        return usage_error("--" + std::string(name) + " needs at least one name, e.g. --" + name +
                           " " + std::string(example));
    return std::optional<std::vector<std::string>>(std::move(items));
}

result<std::optional<std::chrono::milliseconds>> timeout_option(const po::variables_map& vm) {
    const auto text = optional_string(vm, "timeout");
    if (!text)
        return std::optional<std::chrono::milliseconds>{};
    auto value = parse_seconds(*text, "timeout");
    if (!value)
        return value.error();
    return std::optional<std::chrono::milliseconds>(*value);
}

result<std::string> job_key(const po::variables_map& vm, std::string_view command) {
    auto key = optional_string(vm, "key");
    if (!key || key->empty())
        return usage_error("which job? give its id or task id, e.g. stemd " + std::string(command) +
                           " j_0123");
    return std::move(*key);
}

} // namespace stemd::cli
