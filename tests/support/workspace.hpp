#pragma once

#include <filesystem>
#include <string>

namespace stemd::test {

// A fresh directory under the system temp dir, removed on destruction unless
// STEMD_KEEP_TEST_DIRS is set (to inspect a failure).
class workspace {
public:
    explicit workspace(const std::string& label);
    ~workspace();
    workspace(const workspace&) = delete;
    workspace& operator=(const workspace&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& rel) const { return path_ / rel; }
    // Writes a file (creating parent dirs) and returns its path.
    std::filesystem::path write(const std::string& rel, const std::string& content) const;

private:
    std::filesystem::path path_;
};

} // namespace stemd::test
