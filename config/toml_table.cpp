#include "config/toml_table.hpp"

#include "common/text.hpp"
#include "config/error.hpp"
#include "config/quoted.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <sstream>
#include <type_traits>

namespace stemd::config {

namespace {

std::string_view type_name(const toml::node& node) {
    switch (node.type()) {
    case toml::node_type::string:
        return "a string";
    case toml::node_type::integer:
        return "an integer";
    case toml::node_type::floating_point:
        return "a floating-point number";
    case toml::node_type::boolean:
        return "a boolean";
    case toml::node_type::date:
        return "a date";
    case toml::node_type::time:
        return "a time";
    case toml::node_type::date_time:
        return "a date-time";
    case toml::node_type::array:
        return "an array";
    case toml::node_type::table:
        return "a table";
    case toml::node_type::none:
        break;
    }
    return "nothing";
}

// A short rendering of a scalar; empty for values better described by their
// type alone (tables, arrays, dates).
std::string shown_value(const toml::node& node) {
    if (const auto* s = node.as_string()) {
        return toml_quoted(s->get());
    }
    if (const auto* i = node.as_integer()) {
        return std::to_string(i->get());
    }
    if (const auto* b = node.as_boolean()) {
        return b->get() ? "true" : "false";
    }
    if (const auto* f = node.as_floating_point()) {
        std::ostringstream out;
        out << f->get();
        std::string text = out.str();
        // "4" would hide why an integer key refuses it.
        if (text.find_first_of(".eEin") == std::string::npos) {
            text += ".0";
        }
        return text;
    }
    return {};
}

// Stores one value into its target. Returns, when the value is refused, what
// is wrong with it, starting with the key's full name.
struct value_reader {
    const toml::node& node;
    std::string name; // "table.key"

    std::optional<std::string> operator()(const text_key& k) const {
        const auto* value = node.as_string();
        if (value == nullptr) {
            return wrong_type("a string in quotes", k.secret);
        }
        std::string text = value->get();
        if (k.check != nullptr) {
            if (auto complaint = k.check(text)) {
                // As the check left it: a check may cut a secret out of a
                // value before the refusal echoes it (s3.endpoint).
                const std::string shown = k.secret ? "" : " = " + toml_quoted(text);
                return name + shown + " " + *complaint;
            }
        }
        *k.out = std::move(text);
        return std::nullopt;
    }

    std::optional<std::string> operator()(const path_key& k) const {
        std::string text = k.out->string();
        auto complaint = (*this)(text_key{&text, k.check, false});
        *k.out = text;
        return complaint;
    }

    std::optional<std::string> operator()(const integer_key& k) const {
        const std::string range = std::to_string(k.low) + " to " + std::to_string(k.high);
        const auto* value = node.as_integer();
        if (value == nullptr) {
            return wrong_type("an integer from " + range, false);
        }
        const std::int64_t number = value->get();
        if (number < k.low || number > k.high) {
            return name + " = " + std::to_string(number) + " is out of range: use " + range;
        }
        // In range, so it fits the member whatever its width.
        std::visit(
            [&](auto* out) { *out = static_cast<std::remove_pointer_t<decltype(out)>>(number); },
            k.out);
        return std::nullopt;
    }

    std::optional<std::string> operator()(const boolean_key& k) const {
        const auto* value = node.as_boolean();
        if (value == nullptr) {
            return wrong_type("true or false (without quotes)", false);
        }
        *k.out = value->get();
        return std::nullopt;
    }

    std::optional<std::string> operator()(const endpoint_key& k) const {
        const auto* value = node.as_string();
        if (value == nullptr) {
            return wrong_type("a string \"host:port\"", false);
        }
        auto parsed = parse_endpoint(value->get());
        if (!parsed) {
            return name + " = " + parsed.error().message;
        }
        *k.out = std::move(*parsed);
        return std::nullopt;
    }

    std::optional<std::string> operator()(const text_list_key& k) const {
        const auto* array = node.as_array();
        if (array == nullptr) {
            return wrong_type("an array of strings, e.g. [\"a\", \"b\"]", false);
        }
        std::vector<std::string> items;
        for (std::size_t i = 0; i < array->size(); ++i) {
            std::string item;
            const value_reader element{*array->get(i), name + "[" + std::to_string(i) + "]"};
            if (auto complaint = element(text_key{&item, k.check, false})) {
                return complaint;
            }
            items.push_back(std::move(item));
        }
        *k.out = std::move(items);
        return std::nullopt;
    }

    std::optional<std::string> operator()(const path_list_key& k) const {
        std::vector<std::string> texts;
        if (auto complaint = (*this)(text_list_key{&texts, k.check})) {
            return complaint;
        }
        k.out->assign(texts.begin(), texts.end());
        return std::nullopt;
    }

    std::string wrong_type(std::string_view expected, bool secret) const {
        std::string what = name;
        if (const std::string shown = shown_value(node); !secret && !shown.empty()) {
            what += " = " + shown;
        }
        what += " is ";
        what += type_name(node);
        what += ": expected ";
        what += expected;
        return what;
    }
};

std::string full_name(const table_spec& spec, std::string_view key) {
    return std::string(spec.name) + "." + std::string(key);
}

std::optional<std::string> unknown_key(const toml::table& table, const table_spec& spec) {
    for (const auto& entry : table) {
        const std::string_view key = entry.first.str();
        bool known = false;
        std::vector<std::string> names;
        for (const auto& k : spec.keys) {
            known = known || k.name == key;
            names.emplace_back(k.name);
        }
        if (!known) {
            return "unknown key \"" + full_name(spec, key) + "\" (known keys in [" +
                   std::string(spec.name) + "]: " + join(names, ", ") + ")";
        }
    }
    return std::nullopt;
}

result<void> read_table(const toml::table& root, const table_spec& spec, std::string_view origin) {
    const auto refuse = [&](error code, const std::string& what) {
        return failure(code, std::string(origin) + ": " + what);
    };
    if (const auto* table = root.get_as<toml::table>(spec.name)) {
        if (auto unknown = unknown_key(*table, spec)) {
            return refuse(error::unknown_key, *unknown);
        }
        for (const auto& key : spec.keys) {
            const toml::node* node = table->get(key.name);
            if (node == nullptr) {
                continue;
            }
            if (auto complaint =
                    std::visit(value_reader{*node, full_name(spec, key.name)}, key.target)) {
                return refuse(error::bad_value, *complaint);
            }
        }
    }
    if (spec.rule) {
        if (auto complaint = spec.rule()) {
            return refuse(error::bad_value, *complaint);
        }
    }
    return {};
}

// Top level: only the known tables, each written as a table.
result<void> check_layout(const toml::table& root, std::string_view origin,
                          std::span<const table_spec> tables) {
    std::vector<std::string> known;
    for (const auto& t : tables) {
        known.emplace_back(t.name);
    }
    for (const auto& [key, value] : root) {
        const std::string name(key.str());
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            const std::string what = value.is_table()
                                         ? "unknown table [" + name + "]"
                                         : "unknown key \"" + name + "\" outside any table";
            return failure(error::unknown_key, std::string(origin) + ": " + what +
                                                   " (known tables: " + join(known, ", ") + ")");
        }
        if (!value.is_table()) {
            std::string what = std::string(origin) + ": " + name;
            if (const std::string shown = shown_value(value); !shown.empty()) {
                what += " = " + shown;
            }
            return failure(error::bad_value, what + " is " + std::string(type_name(value)) +
                                                 ": expected a table, written [" + name + "]");
        }
    }
    return {};
}

stemd::error syntax_failure(const toml::parse_error& e, std::string_view origin) {
    const auto& where = e.source().begin;
    return failure(error::syntax, std::string(origin) + ": line " + std::to_string(where.line) +
                                      ", column " + std::to_string(where.column) +
                                      ": this is not valid TOML: " + std::string(e.description()));
}

} // namespace

result<void> read_tables(std::string_view toml_text, std::string_view origin,
                         std::span<const table_spec> tables) {
    toml::table root;
    try {
        root = toml::parse(toml_text, origin);
    } catch (const toml::parse_error& e) {
        return syntax_failure(e, origin);
    }
    if (auto laid_out = check_layout(root, origin, tables); !laid_out) {
        return laid_out;
    }
    for (const auto& table : tables) {
        if (auto read = read_table(root, table, origin); !read) {
            return read;
        }
    }
    return {};
}

} // namespace stemd::config
