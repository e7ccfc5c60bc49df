#include "client/multipart.hpp"

#include "client/error.hpp"
#include "common/posix_file.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <random>
#include <string_view>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace stemd::client {

namespace {

constexpr std::size_t piece_size = 64 * 1024;

std::string random_boundary() {
    static constexpr std::string_view hex = "0123456789abcdef";
    std::random_device device;
    std::string boundary = "stemd-";
    for (int word = 0; word < 4; ++word) {
        auto bits = static_cast<std::uint32_t>(device());
        for (int nibble = 0; nibble < 8; ++nibble) {
            boundary += hex[bits & 0xF];
            bits >>= 4;
        }
    }
    return boundary;
}

// Quotes inside a quoted-string would end it early and CR/LF would start a
// new header; servers disagree on escapes, so the characters are replaced.
std::string header_safe(std::string text) {
    for (char& c : text) {
        if (c == '"' || c == '\\' || c == '\r' || c == '\n') {
            c = '_';
        }
    }
    return text;
}

std::string quoted_path(const std::filesystem::path& path) {
    return "'" + path.string() + "'";
}

stemd::error problem(std::string message) {
    return {make_error_code(error::file_io), std::move(message)};
}

stemd::error unreadable(const std::filesystem::path& path, const std::error_code& ec) {
    return problem("cannot read " + quoted_path(path) + " for upload: " + ec.message() +
                   "; check that the file exists and stemd may read it");
}

stemd::error size_changed(const std::filesystem::path& path, std::uint64_t expected) {
    return problem(quoted_path(path) + " changed size during the upload (expected " +
                   std::to_string(expected) + " bytes); submit it again once nothing writes to it");
}

std::error_code last_errno() {
    return {errno, std::generic_category()};
}

std::string closing(std::string_view boundary) {
    return "--" + std::string(boundary) + "--\r\n";
}

} // namespace

multipart_form::multipart_form() : boundary_(random_boundary()) {}

multipart_form::multipart_form(std::string boundary) : boundary_(std::move(boundary)) {}

void multipart_form::add_field(std::string name, std::string value) {
    part p;
    p.name = std::move(name);
    p.value = std::move(value);
    parts_.push_back(std::move(p));
}

void multipart_form::add_file(std::string name, std::filesystem::path path,
                              std::string content_type) {
    part p;
    p.name = std::move(name);
    p.file = std::move(path);
    p.content_type = std::move(content_type);
    p.is_file = true;
    std::error_code ec;
    p.size = std::filesystem::file_size(p.file, ec);
    if (ec) {
        p.size = 0;
        p.stat_error = ec;
    }
    parts_.push_back(std::move(p));
}

void multipart_form::add_file(std::string name, int fd, std::uint64_t offset, std::uint64_t length,
                              std::string filename, std::string content_type) {
    part p;
    p.name = std::move(name);
    p.file = std::move(filename);
    p.fd = fd;
    p.offset = offset;
    p.size = length;
    p.content_type = std::move(content_type);
    p.is_file = true;
    parts_.push_back(std::move(p));
}

std::string multipart_form::content_type() const {
    return "multipart/form-data; boundary=" + boundary_;
}

std::string multipart_form::head(const part& p) const {
    std::string text = "--" + boundary_ + "\r\nContent-Disposition: form-data; name=\"" +
                       header_safe(p.name) + "\"";
    if (p.is_file) {
        text += "; filename=\"" + header_safe(p.file.filename().string()) + "\"";
        text += "\r\nContent-Type: " + header_safe(p.content_type);
    }
    text += "\r\n\r\n";
    return text;
}

result<std::uint64_t> multipart_form::content_length() const {
    std::uint64_t total = 0;
    for (const part& p : parts_) {
        if (p.is_file && p.stat_error) {
            return unreadable(p.file, p.stat_error);
        }
        total += head(p).size() + (p.is_file ? p.size : p.value.size()) + 2; // 2: CRLF
    }
    return total + closing(boundary_).size();
}

struct multipart_form::reader::impl {
    enum class stage { part_head, file_data, part_tail, closed };

    const multipart_form* form;
    std::size_t index = 0; // the part being produced
    stage at = stage::part_head;
    std::string text;
    std::array<char, piece_size> data{};
    unique_fd fd;
    std::uint64_t remaining = 0;

    explicit impl(const multipart_form& f) : form(&f) {}

    const part& current() const { return form->parts_[index]; }

    std::span<const char> emit_text(std::string s) {
        text = std::move(s);
        return {text.data(), text.size()};
    }

    // A field is produced whole; a file part only up to its data.
    std::span<const char> next_head() {
        if (index == form->parts_.size()) {
            at = stage::closed;
            return emit_text(closing(form->boundary_));
        }
        const part& p = current();
        if (p.is_file) {
            at = stage::file_data;
            remaining = p.size;
            return emit_text(form->head(p));
        }
        std::string s = form->head(p) + p.value + "\r\n";
        ++index;
        return emit_text(std::move(s));
    }

    // The descriptor being read: the borrowed one, or the one opened here.
    int source() const { return current().fd >= 0 ? current().fd : fd.get(); }

    result<void> open_file() {
        const part& p = current();
        if (p.fd >= 0) {
            return {};
        }
        if (p.stat_error) {
            return unreadable(p.file, p.stat_error);
        }
        fd = unique_fd(::open(p.file.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) {
            return unreadable(p.file, last_errno());
        }
        // Catches a change before any of the file goes out; reading checks
        // again because the file may still change afterwards.
        struct stat info {};
        if (::fstat(fd.get(), &info) != 0) {
            return unreadable(p.file, last_errno());
        }
        if (static_cast<std::uint64_t>(info.st_size) != p.size) {
            return size_changed(p.file, p.size);
        }
        return {};
    }

    result<std::size_t> read_some(std::size_t wanted) {
        for (;;) {
            const part& p = current();
            // A borrowed descriptor is read at its slice, whatever its offset.
            ssize_t n = p.fd >= 0 ? ::pread(p.fd, data.data(), wanted,
                                            static_cast<off_t>(p.offset + p.size - remaining))
                                  : ::read(fd.get(), data.data(), wanted);
            if (n >= 0) {
                return static_cast<std::size_t>(n);
            }
            if (errno != EINTR) {
                return unreadable(current().file, last_errno());
            }
        }
    }

    // Empty once the file's announced size has been produced (and the file
    // has nothing more).
    result<std::span<const char>> next_data() {
        const part& p = current();
        if (source() < 0) {
            if (auto opened = open_file(); !opened) {
                return opened.error();
            }
        }
        if (remaining == 0 && p.fd >= 0) {
            at = stage::part_tail; // a slice ends where it says, whatever follows
            return std::span<const char>{};
        }
        if (remaining == 0) {
            auto extra = read_some(1);
            if (!extra) {
                return extra.error();
            }
            if (*extra != 0) {
                return size_changed(p.file, p.size);
            }
            fd.close(); // read only, so close() has nothing to report
            at = stage::part_tail;
            return std::span<const char>{};
        }
        auto n =
            read_some(static_cast<std::size_t>(std::min<std::uint64_t>(remaining, piece_size)));
        if (!n) {
            return n.error();
        }
        if (*n == 0) {
            return size_changed(p.file, p.size);
        }
        remaining -= *n;
        return std::span<const char>{data.data(), *n};
    }

    result<std::span<const char>> next() {
        for (;;) {
            switch (at) {
            case stage::part_head:
                return next_head();
            case stage::file_data: {
                auto piece = next_data();
                if (!piece || !piece->empty()) {
                    return piece;
                }
                break; // the file is done: on to its tail
            }
            case stage::part_tail:
                ++index;
                at = stage::part_head;
                return emit_text("\r\n");
            case stage::closed:
                return std::span<const char>{};
            }
        }
    }
};

multipart_form::reader::reader(const multipart_form& form) : impl_(std::make_unique<impl>(form)) {}

multipart_form::reader::~reader() = default;

multipart_form::reader::reader(reader&&) noexcept = default;

result<std::span<const char>> multipart_form::reader::next() {
    return impl_->next();
}

} // namespace stemd::client
