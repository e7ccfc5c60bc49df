#include "server/upload_form.hpp"

#include "client/form_data.hpp"
#include "server/error.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace stemd::server {

namespace {

// A read-only mapping of the spooled file: the kernel pages it in as the
// parser scans it, so the upload is never copied into the heap.
class mapping {
public:
    mapping(int fd, std::size_t size) : size_(size) {
        if (size_ > 0) {
            void* at = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
            data_ = at == MAP_FAILED ? nullptr : static_cast<const char*>(at);
        }
    }
    ~mapping() {
        if (data_ != nullptr)
            ::munmap(const_cast<char*>(data_), size_);
    }
    mapping(const mapping&) = delete;
    mapping& operator=(const mapping&) = delete;

    bool ok() const { return data_ != nullptr; }
    std::string_view view() const { return {data_, size_}; }

private:
    const char* data_ = nullptr;
    std::size_t size_;
};

stemd::error refused(std::string message) {
    return make_error(error::file_refused, std::move(message));
}

// The parts into `out`, by name; offsets relative to `base`.
result<void> take_parts(const std::vector<client::form_part>& parts, std::string_view base,
                        upload& out) {
    bool audio = false;
    for (const auto& part : parts) {
        if (part.name == "audio_file" && !audio) {
            if (part.filename.empty() || part.content.empty())
                return refused("the audio_file part must carry a non-empty file with a filename");
            audio = true;
            out.file.offset = static_cast<std::uint64_t>(part.content.data() - base.data());
            out.file.length = part.content.size();
            out.file.name = std::filesystem::path(part.filename).filename().string();
        } else if (part.name == "options" && out.options_json.empty()) {
            out.options_json = std::string(part.content);
        } else {
            return refused("unexpected form part \"" + part.name +
                           "\"; send one audio_file part (the file) and optionally one options "
                           "part (JSON: stems, preprocessing_options, eco_mode)");
        }
    }
    if (!audio)
        return refused("the form has no audio_file part; send the audio as a part named "
                       "audio_file, with a filename");
    return {};
}

} // namespace

result<upload> read_upload(const std::filesystem::path& spooled, std::string_view content_type) {
    upload out;
    out.fd = unique_fd(::open(spooled.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    // Gone from uploads/ before the job is even submitted: the descriptor
    // keeps the bytes readable, and the space is freed when it closes,
    // whatever happens to the job or the daemon.
    if (out.fd)
        ::unlink(spooled.c_str());
    struct stat st {};
    if (!out.fd || ::fstat(out.fd.get(), &st) != 0)
        return make_error(error::bad_request, std::string("the upload could not be read back: ") +
                                                  std::strerror(errno));
    const mapping map(out.fd.get(), static_cast<std::size_t>(st.st_size));
    if (!map.ok())
        return make_error(error::bad_request, "the upload is empty or cannot be mapped; send "
                                              "a multipart/form-data body");
    auto parts = client::parse_form_data(content_type, map.view());
    if (!parts)
        return make_error(error::bad_request,
                          "the upload is not valid multipart/form-data: " + parts.error().message);
    if (auto taken = take_parts(*parts, map.view(), out); !taken)
        return taken.error();
    out.file.fd = out.fd.get();
    return out;
}

} // namespace stemd::server
