#pragma once

// Reading TOML tables against a list of the keys they may hold. Each key is
// described once (name, where its value goes, as what type, in what range,
// how it is checked); the reader refuses anything else, so a typo cannot
// silently fall back to a default.

#include "common/error.hpp"
#include "config/endpoint.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace stemd::config {

// Checks (and may normalise) a string value. Returns, when it refuses it, the
// rest of the sentence that follows "table.key = value".
using text_check = std::optional<std::string> (*)(std::string& value);

struct text_key {
    std::string* out;
    text_check check = nullptr;
    bool secret = false; // never shown in a message
};
struct path_key {
    std::filesystem::path* out;
    text_check check = nullptr;
};
struct integer_key {
    std::variant<int*, std::int64_t*> out;
    std::int64_t low;
    std::int64_t high;
};
struct boolean_key {
    bool* out;
};
struct endpoint_key {
    endpoint* out;
};
// An array of strings, each passed through `check`.
struct text_list_key {
    std::vector<std::string>* out;
    text_check check = nullptr;
};
// An array of strings, each a path that passes `check`.
struct path_list_key {
    std::vector<std::filesystem::path>* out;
    text_check check = nullptr;
};

using key_target = std::variant<text_key, path_key, integer_key, boolean_key, endpoint_key,
                                text_list_key, path_list_key>;

inline key_target text_value(std::string& out, text_check check = nullptr) {
    return text_key{&out, check, false};
}
inline key_target secret_value(std::string& out, text_check check = nullptr) {
    return text_key{&out, check, true};
}
inline key_target path_value(std::filesystem::path& out, text_check check = nullptr) {
    return path_key{&out, check};
}
inline key_target int_value(int& out, std::int64_t low, std::int64_t high) {
    return integer_key{&out, low, high};
}
inline key_target int_value(std::int64_t& out, std::int64_t low, std::int64_t high) {
    return integer_key{&out, low, high};
}
inline key_target bool_value(bool& out) {
    return boolean_key{&out};
}
inline key_target endpoint_value(endpoint& out) {
    return endpoint_key{&out};
}
inline key_target text_list_value(std::vector<std::string>& out, text_check check = nullptr) {
    return text_list_key{&out, check};
}
inline key_target path_list_value(std::vector<std::filesystem::path>& out,
                                  text_check check = nullptr) {
    return path_list_key{&out, check};
}

struct key_spec {
    std::string_view name;
    key_target target;
};

struct table_spec {
    std::string_view name;
    std::vector<key_spec> keys; // in the order messages list them
    // A rule across keys, checked once they all read well; returns the
    // whole complaint (without the origin), or nullopt.
    std::function<std::optional<std::string>()> rule = nullptr;
};

// Parses `toml_text` and stores the value of every key present into its
// target; absent keys keep what their targets hold. Refuses (config::error,
// message prefixed with "<origin>: ") invalid TOML, tables and keys not in
// `tables`, and values of the wrong type, out of range or refused by their
// check. Tables are read in the order given; the first failure is returned.
result<void> read_tables(std::string_view toml_text, std::string_view origin,
                         std::span<const table_spec> tables);

} // namespace stemd::config
