#pragma once

// Helpers shared by the config tests: temporary files and directories,
// scoped environment and working directory, and parse-must-refuse.

#include "config/settings.hpp"
#include "tests/support/workspace.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <unistd.h>

namespace stemd::config::test {

inline std::filesystem::path unique_temp_path(std::string_view stem) {
    static std::atomic<int> counter{0};
    return std::filesystem::temp_directory_path() /
           ("stemd-config-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
            "-" + std::string(stem));
}

using stemd::test::write_file;

// A file under the temp directory, removed when the test ends.
class temp_file {
public:
    explicit temp_file(std::string_view text, std::string_view stem = "stemd.toml")
        : path_(unique_temp_path(stem)) {
        write_file(path_, text);
        std::filesystem::permissions(path_, std::filesystem::perms::owner_read |
                                                std::filesystem::perms::owner_write);
    }
    ~temp_file() {
        std::error_code ec;
        std::filesystem::remove(path_, ec);
    }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;

    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

class temp_dir : public stemd::test::workspace {
public:
    temp_dir() : workspace("config-test") {}
};

// Sets (or, with nullopt, unsets) an environment variable for one scope.
class env_override {
public:
    env_override(std::string name, const std::optional<std::string>& value)
        : name_(std::move(name)) {
        if (const char* old = std::getenv(name_.c_str())) {
            old_ = old;
        }
        set(value);
    }
    ~env_override() { set(old_); }
    env_override(const env_override&) = delete;
    env_override& operator=(const env_override&) = delete;

private:
    void set(const std::optional<std::string>& value) {
        if (value) {
            ::setenv(name_.c_str(), value->c_str(), 1);
        } else {
            ::unsetenv(name_.c_str());
        }
    }

    std::string name_;
    std::optional<std::string> old_;
};

class cwd_override {
public:
    explicit cwd_override(const std::filesystem::path& dir)
        : old_(std::filesystem::current_path()) {
        std::filesystem::current_path(dir);
    }
    ~cwd_override() {
        std::error_code ec;
        std::filesystem::current_path(old_, ec);
    }
    cwd_override(const cwd_override&) = delete;
    cwd_override& operator=(const cwd_override&) = delete;

private:
    std::filesystem::path old_;
};

inline bool contains(std::string_view text, std::string_view part) {
    return text.find(part) != std::string_view::npos;
}

// Parses text that must be refused and returns its error.
inline stemd::error refused(std::string_view text, error expected) {
    auto parsed = stemd::config::parse(text, "stemd.toml");
    REQUIRE_FALSE(parsed.has_value());
    const auto& p = parsed.error();
    CHECK(p.code == expected);
    CHECK(contains(p.message, "stemd.toml: "));
    return p;
}

} // namespace stemd::config::test
