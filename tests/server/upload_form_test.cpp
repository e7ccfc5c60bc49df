#include "server/upload_form.hpp"

#include "server/error.hpp"
#include "server/reply.hpp"
#include "tests/support/workspace.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace net = boost::asio;
using namespace std::chrono_literals;
using stemd::server::read_upload;
using stemd::test::workspace;

namespace {

constexpr std::string_view form_type = "multipart/form-data; boundary=b0undary";

// A form with an audio_file part named `filename` and, unless empty, an
// options part holding `options`.
std::string form(const std::string& filename, const std::string& options = {}) {
    std::string body;
    if (!options.empty())
        body += "--b0undary\r\nContent-Disposition: form-data; name=\"options\"\r\n\r\n" + options +
                "\r\n";
    return body +
           "--b0undary\r\nContent-Disposition: form-data; name=\"audio_file\"; "
           "filename=\"" +
           filename + "\"\r\n\r\nRIFF....WAVE\r\n--b0undary--\r\n";
}

// The upload of `body`, spooled as the listener would.
stemd::result<stemd::server::upload> read_form(const workspace& ws, const std::string& body) {
    return read_upload(ws.write("uploads/spooled", body), form_type);
}

// The refusal's HTTP status and reason.
std::pair<unsigned, std::string> refusal(const stemd::result<stemd::server::upload>& r) {
    REQUIRE_FALSE(r.has_value());
    return {stemd::server::http_status(r.error()), r.error().message};
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("upload form: the options part is capped before it is copied") {
    workspace ws("upload-options");
    const std::string small = R"({"stems":["vocals"]})";
    auto taken = read_form(ws, form("song.wav", small));
    REQUIRE_MESSAGE(taken.has_value(), taken.error().message);
    CHECK(taken->options_json == small);
    CHECK(taken->file.name == "song.wav");

    const std::string big =
        R"({"stems":[")" + std::string(stemd::server::options_max_bytes, 'v') + R"("]})";
    const auto [status, reason] = refusal(read_form(ws, form("song.wav", big)));
    CHECK(status == 413);
    CHECK_MESSAGE(has(reason, "options part"), reason);
    CHECK_MESSAGE(has(reason, std::to_string(stemd::server::options_max_bytes)), reason);
}

TEST_CASE("upload form: a filename must have a last component and no control character") {
    workspace ws("upload-names");
    auto nested = read_form(ws, form("music/album/song.wav"));
    REQUIRE_MESSAGE(nested.has_value(), nested.error().message);
    CHECK(nested->file.name == "song.wav"); // a name, never the client's path

    for (const std::string& name :
         std::vector<std::string>{"x/", "/", "a/..", ".", "..", "so\nng.wav", "so\x01ng.wav",
                                  std::string("song\x7f.wav")}) {
        CAPTURE(name);
        const auto [status, reason] = refusal(read_form(ws, form(name)));
        CHECK(status == 422);
        CHECK_MESSAGE(has(reason, "audio_file part's filename"), reason);
    }
}

TEST_CASE("upload form: malformed is 400, a spool that cannot be read back is 500") {
    workspace ws("upload-status");
    const auto [malformed, why] = refusal(read_form(ws, "--b0undary\r\nno headers here"));
    CHECK(malformed == 400);
    CHECK_MESSAGE(has(why, "not valid multipart/form-data"), why);

    const auto [lost, reason] = refusal(read_upload(ws.path() / "uploads" / "gone", form_type));
    CHECK(lost == 500);
    CHECK_MESSAGE(has(reason, "could not be read back"), reason);
}

// The spooled file is a FIFO here so that reading it blocks until the io
// thread itself opens the other end: that can only happen if the read is
// not on the io thread. A watchdog opens it after a deadline so that a
// read on the io thread fails the test instead of hanging it.
TEST_CASE("upload form: the form is read on a worker while the io thread goes on") {
    workspace ws("upload-worker");
    const auto fifo = ws.path() / "spooled";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    net::io_context io{1};
    std::optional<stemd::result<stemd::server::upload>> read;
    bool io_opened_writer = false;
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            read = co_await stemd::server::read_upload_on_worker(fifo, std::string(form_type));
        },
        net::detached);
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            net::steady_timer pause(co_await net::this_coro::executor);
            // Succeeds only while a reader is waiting in open(2).
            for (int i = 0; i < 500 && !io_opened_writer; ++i) {
                const int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
                io_opened_writer = w >= 0;
                if (w >= 0)
                    ::close(w);
                pause.expires_after(10ms);
                co_await pause.async_wait(net::use_awaitable);
            }
        },
        net::detached);
    std::mutex mutex;
    std::condition_variable cv;
    bool finished = false;
    std::thread watchdog([&] {
        std::unique_lock lock(mutex);
        if (!cv.wait_for(lock, 10s, [&] { return finished; })) {
            const int w = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC); // frees a stuck reader
            if (w >= 0)
                ::close(w);
        }
    });
    io.run();
    {
        const std::lock_guard lock(mutex);
        finished = true;
    }
    cv.notify_one();
    watchdog.join();
    CHECK_MESSAGE(io_opened_writer, "the io thread was held while the form was read");
    REQUIRE(read.has_value());
    CHECK_FALSE(read->has_value()); // a FIFO holds no form: it reads as empty
}
