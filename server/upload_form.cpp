#include "server/upload_form.hpp"

#include "client/form_data.hpp"
#include "client/worker.hpp"
#include "server/error.hpp"

#include <boost/asio/thread_pool.hpp>

#include <algorithm>
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

// The name the job records and MusicGPT is sent: the last component of
// the filename the client gave, refused when there is none to take.
result<std::string> file_name_of(const std::string& filename) {
    const bool control = std::any_of(filename.begin(), filename.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
    if (control)
        return refused("the audio_file part's filename contains a control character; send the "
                       "file's plain name, e.g. song.wav");
    std::string name = std::filesystem::path(filename).filename().string();
    if (name.empty() || name == "." || name == "..")
        return refused("the audio_file part's filename \"" + filename +
                       "\" has no file name after its last '/'; send the file's name, e.g. "
                       "song.wav");
    return name;
}

// The parts into `out`, by name; offsets relative to `base`.
result<void> take_parts(const std::vector<client::form_part>& parts, std::string_view base,
                        upload& out) {
    bool audio = false;
    bool options = false;
    for (const auto& part : parts) {
        if (part.name == "audio_file" && !audio) {
            if (part.filename.empty() || part.content.empty())
                return refused("the audio_file part must carry a non-empty file with a filename");
            auto name = file_name_of(part.filename);
            if (!name)
                return name.error();
            audio = true;
            out.file.offset = static_cast<std::uint64_t>(part.content.data() - base.data());
            out.file.length = part.content.size();
            out.file.name = std::move(*name);
        } else if (part.name == "options" && !options) {
            // Checked before it is copied: it is the one part read into memory.
            if (part.content.size() > options_max_bytes)
                return make_error(error::part_too_large,
                                  "the options part is " + std::to_string(part.content.size()) +
                                      " bytes, over its cap of " +
                                      std::to_string(options_max_bytes) +
                                      "; it holds only stems, preprocessing_options and eco_mode");
            options = true;
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
        return make_error(error::upload_unreadable,
                          std::string("the spooled upload could not be read back: ") +
                              std::strerror(errno) +
                              "; check the uploads/ folder next to "
                              "storage.database, then send it again");
    if (st.st_size == 0)
        return make_error(error::bad_request, "the upload is empty; send a multipart/form-data "
                                              "body");
    const mapping map(out.fd.get(), static_cast<std::size_t>(st.st_size));
    if (!map.ok())
        return make_error(error::upload_unreadable,
                          std::string("the spooled upload could not be mapped: ") +
                              std::strerror(errno) + "; check the memory limits of stemd");
    auto parts = client::parse_form_data(content_type, map.view());
    if (!parts)
        return make_error(error::bad_request,
                          "the upload is not valid multipart/form-data: " + parts.error().message);
    if (auto taken = take_parts(*parts, map.view(), out); !taken)
        return taken.error();
    out.file.fd = out.fd.get();
    return out;
}

boost::asio::awaitable<result<upload>> read_upload_on_worker(std::filesystem::path spooled,
                                                             std::string content_type) {
    // Its own worker: a form waits neither for the io thread nor behind a
    // download's hashing, and forms are scanned one at a time.
    static boost::asio::thread_pool pool(1);
    auto read = [spooled = std::move(spooled),
                 content_type = std::move(content_type)](const std::atomic<bool>&) {
        return read_upload(spooled, content_type);
    };
    auto form = co_await client::on_worker<result<upload>>(pool, std::move(read));
    if (!form)
        co_return make_error(error::upload_unreadable,
                             "the wait for the upload's form was cut short; send it again");
    co_return std::move(*form);
}

} // namespace stemd::server
