#pragma once

// Whole-file reads and writes for tests. Header-only: any runner can use it.

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>

namespace stemd::test {

// Reads a whole file ("" if missing).
inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in)
        return {};
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

namespace detail {
inline void put_file(const std::filesystem::path& p, std::string_view bytes,
                     std::ios::openmode mode) {
    std::ofstream out(p, std::ios::binary | mode);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out)
        throw std::runtime_error("cannot write " + p.string());
}
} // namespace detail

// Replaces the file's content with `bytes`; throws when it cannot.
inline void write_file(const std::filesystem::path& p, std::string_view bytes) {
    detail::put_file(p, bytes, std::ios::trunc);
}

// Adds `bytes` at the end of the file; throws when it cannot.
inline void append_file(const std::filesystem::path& p, std::string_view bytes) {
    detail::put_file(p, bytes, std::ios::app);
}

} // namespace stemd::test
