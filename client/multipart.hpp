#pragma once

#include "common/error.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace stemd::client {

// A multipart/form-data body whose file parts are read from disk piece by
// piece while it is sent, so an upload never sits in memory whole.
class multipart_form {
public:
    // A random boundary is chosen; tests may pass their own.
    multipart_form();
    explicit multipart_form(std::string boundary);

    void add_field(std::string name, std::string value);
    // Its size is taken now (a stat failure is reported by content_length());
    // the file is opened when the body is read, and must still have that size.
    void add_file(std::string name, std::filesystem::path path, std::string content_type);
    // The bytes [offset, offset + length) of `fd`, which stays open (and is
    // not owned) until every reader is done; read with pread. `filename`
    // is what the part's Content-Disposition names.
    void add_file(std::string name, int fd, std::uint64_t offset, std::uint64_t length,
                  std::string filename, std::string content_type);

    // "multipart/form-data; boundary=..."
    std::string content_type() const;
    // Exact body size; fails (client::error::file_io, the message naming
    // the file and what to do) when a file could not be stat'ed by add_file().
    result<std::uint64_t> content_length() const;

    // Produces the body in order. Each span stays valid until the next call.
    // The form must outlive its readers.
    class reader {
    public:
        explicit reader(const multipart_form& form);
        ~reader();
        reader(reader&&) noexcept;
        // The next piece (file data in pieces of at most 64 KiB); empty at
        // the end. client::error::file_io when a file cannot be read or no
        // longer has the size add_file() saw, which content_length() announced.
        result<std::span<const char>> next();

    private:
        struct impl;
        std::unique_ptr<impl> impl_;
    };

private:
    struct part {
        std::string name;
        std::string value;          // for fields
        std::filesystem::path file; // for files: a path, or the shown name with `fd`
        int fd = -1;                // for a borrowed descriptor
        std::uint64_t offset = 0;   // for a borrowed descriptor
        std::string content_type;   // for files
        bool is_file = false;
        std::uint64_t size = 0;               // for files, taken by add_file
        boost::system::error_code stat_error; // for files, when size is unknown
    };
    friend class reader;
    std::string boundary_;
    std::vector<part> parts_;
    std::string head(const part& p) const; // delimiter + part headers
};

} // namespace stemd::client
