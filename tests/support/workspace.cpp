#include "tests/support/workspace.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <system_error>

namespace stemd::test {
namespace {

// Keeps the directory name a single, shell-friendly path component.
std::string safe_label(const std::string& label) {
    std::string out;
    for (unsigned char c : label)
        out.push_back(std::isalnum(c) || c == '-' || c == '_' ? static_cast<char>(c) : '-');
    return out.empty() ? "test" : out;
}

bool keep_test_dirs() {
    const char* keep = std::getenv("STEMD_KEEP_TEST_DIRS");
    return keep != nullptr && *keep != '\0';
}

} // namespace

workspace::workspace(const std::string& label) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / ("stemd-" + safe_label(label) + "-XXXXXX"))
            .string();
    if (::mkdtemp(pattern.data()) == nullptr)
        throw std::runtime_error("workspace: cannot create " + pattern + ": " +
                                 std::strerror(errno) + " (check TMPDIR)");
    path_ = pattern;
}

workspace::~workspace() {
    if (keep_test_dirs()) {
        std::cerr << "workspace kept (STEMD_KEEP_TEST_DIRS): " << path_.string() << '\n';
        return;
    }
    std::error_code ignored; // a destructor must not throw; a leftover temp dir is harmless
    std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path workspace::write(const std::string& rel, const std::string& content) const {
    std::filesystem::path relative(rel);
    if (relative.is_absolute())
        throw std::invalid_argument("workspace::write: \"" + rel +
                                    "\" must be relative to the workspace");
    std::filesystem::path target = path_ / relative;
    std::filesystem::create_directories(target.parent_path());
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (!out)
        throw std::runtime_error("workspace::write: cannot write " + target.string());
    return target;
}

} // namespace stemd::test
