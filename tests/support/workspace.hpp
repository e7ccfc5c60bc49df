#pragma once

// A fresh directory for a test. Header-only: any runner can use it.

#include "tests/support/files.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>
#include <system_error>

#include <unistd.h>

namespace stemd::test {

// A fresh directory under the system temp dir, removed on destruction unless
// STEMD_KEEP_TEST_DIRS is set (to inspect a failure).
class workspace {
public:
    explicit workspace(const std::string& label = "test") {
        std::string pattern =
            (std::filesystem::temp_directory_path() / ("stemd-" + safe_label(label) + "-XXXXXX"))
                .string();
        if (::mkdtemp(pattern.data()) == nullptr)
            throw std::runtime_error("workspace: cannot create " + pattern + ": " +
                                     std::strerror(errno) + " (check TMPDIR)");
        path_ = pattern;
    }
    ~workspace() {
        const char* keep = std::getenv("STEMD_KEEP_TEST_DIRS");
        if (keep != nullptr && *keep != '\0') {
            std::cerr << "workspace kept (STEMD_KEEP_TEST_DIRS): " << path_.string() << '\n';
            return;
        }
        std::error_code ignored; // a destructor must not throw; a leftover temp dir is harmless
        std::filesystem::remove_all(path_, ignored);
    }
    workspace(const workspace&) = delete;
    workspace& operator=(const workspace&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& rel) const { return path_ / rel; }
    // Writes a file (creating parent dirs) and returns its path.
    std::filesystem::path write(const std::string& rel, const std::string& content) const {
        std::filesystem::path relative(rel);
        if (relative.is_absolute())
            throw std::invalid_argument("workspace::write: \"" + rel +
                                        "\" must be relative to the workspace");
        std::filesystem::path target = path_ / relative;
        std::filesystem::create_directories(target.parent_path());
        write_file(target, content);
        return target;
    }

private:
    // Keeps the directory name a single, shell-friendly path component.
    static std::string safe_label(const std::string& label) {
        std::string out;
        for (unsigned char c : label)
            out.push_back(std::isalnum(c) || c == '-' || c == '_' ? static_cast<char>(c) : '-');
        return out.empty() ? "test" : out;
    }

    std::filesystem::path path_;
};

} // namespace stemd::test
