#include "client/downloader.hpp"

#include "client/error.hpp"
#include "common/crypto.hpp"
#include "tests/client/download_support.hpp"
#include "tests/support/files.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace stemd::client;
using namespace stemd::client::testing;
using stemd::sha256_hex;
using stemd::test::read_file;
using stemd::test::workspace;
using stemd::test::write_file;
namespace fs = std::filesystem;
namespace net = boost::asio;

// What a download may touch on disk: its own names only, never through a
// link, one writer at a time, durable directories, and an io thread that
// stays free while a resumed prefix is hashed.

namespace {

// Polls `done` until it holds or 10 s pass.
template <class F> bool eventually(F done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::yield();
    }
    return true;
}

// True while a descriptor of this process is open on `file`.
bool is_open(const fs::path& file) {
    std::error_code ec;
    for (fs::directory_iterator it("/proc/self/fd", ec), stop; !ec && it != stop;
         it.increment(ec)) {
        std::error_code link_ec;
        if (fs::read_symlink(it->path(), link_ec) == file)
            return true;
    }
    return false;
}

// Big enough to need a worker, small enough to hash fast: how long a
// hash is under way is the hash_gate's, not the machine's speed.
constexpr std::uint64_t big_prefix = std::uint64_t{16} << 20;
const std::string prefix_tail = "0123456789";

// A server answering the rest of a big_prefix + 10 byte object with a 206.
stemd::client::testing::handler rest_of_big_object() {
    return [](const seen_request& req) {
        CHECK(range_start(req.range) == big_prefix);
        const std::string range = "bytes " + std::to_string(big_prefix) + "-" +
                                  std::to_string(big_prefix + prefix_tail.size() - 1) + "/" +
                                  std::to_string(big_prefix + prefix_tail.size());
        return response(206, {{"Content-Range", range}, {"ETag", "\"v1\""}}, prefix_tail);
    };
}

// Leaves a big_prefix .part of zeros (mostly holes) with its record.
fs::path leave_big_part(const download_request& r) {
    const fs::path final_path = r.directory / "track_vocals.mp3";
    leave_part(final_path, "", r.url, big_prefix + prefix_tail.size());
    const fs::path part = fs::path(final_path) += ".part";
    fs::resize_file(part, big_prefix);
    return part;
}

// Runs the download of `r` on an io_context of its own, and beside it on the
// same thread `again`, over and over, as another handler would run. Once
// `again` says false before the download is done, the io_context stops and
// goes with the download unfinished, as at a shutdown: nothing returned.
std::optional<outcome> run_beside(const download_request& r, const std::function<bool()>& again) {
    net::ssl::context tls(net::ssl::context::tls_client);
    const download_options options;
    std::optional<outcome> got;
    net::io_context ioc; // destroyed first: the download refers to the above
    net::co_spawn(ioc, download(r, options, tls), [&](std::exception_ptr e, outcome v) {
        if (e)
            std::rethrow_exception(e);
        got = std::move(v);
    });
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            while (!got) {
                if (!again()) {
                    ioc.stop();
                    co_return;
                }
                co_await net::post(ioc, net::use_awaitable);
            }
        },
        net::detached);
    ioc.run();
    return got;
}

} // namespace

TEST_CASE("downloader: key x.mp3 never takes the .part of key x") {
    const std::string body = make_body(100'000);
    std::atomic<int> calls{0};
    test_server server([&](const seen_request&) {
        // The first answer (for key x) breaks off half-way.
        if (calls++ == 0)
            return response(200, {{"Content-Type", "audio/mpeg"}, {"ETag", "\"v1\""}},
                            std::string_view(body).substr(0, 1000), body.size());
        return response(200, {{"Content-Type", "audio/mpeg"}}, body);
    });
    workspace dir("downloader-files-test");
    REQUIRE_FALSE(fetch(request_for(server, "/dl/x", dir, "x")).has_value());
    const fs::path part_of_x = dir.path() / "stems" / "x.mp3.part";
    REQUIRE(read_file(part_of_x) == body.substr(0, 1000));

    const auto other = fetch(request_for(server, "/dl/other", dir, "x.mp3"));
    REQUIRE(other.has_value());
    CHECK_FALSE(other->already_complete);
    CHECK(other->path == dir.path() / "stems" / "x.mp3.mp3");
    CHECK(read_file(other->path) == body);
    CHECK(read_file(part_of_x) == body.substr(0, 1000));
}

TEST_CASE("downloader: a fallback extension naming a .part or a record is not used") {
    test_server server([&](const seen_request&) { return response(200, {}, "data"); });
    workspace dir("downloader-files-test");
    const fs::path part_of_x = dir.path() / "stems" / "x.mp3.part";
    fs::create_directories(part_of_x.parent_path());
    write_file(part_of_x, "half of x");
    for (const char* fallback : {"part", "meta", "tmp", "a.b", ""}) {
        CAPTURE(fallback);
        auto r = request_for(server, "/dl", dir, "x.mp3");
        r.fallback_extension = fallback;
        const auto got = fetch(r);
        REQUIRE(got.has_value());
        CHECK(got->path == dir.path() / "stems" / "x.mp3.bin");
        fs::remove(got->path);
    }
    CHECK(read_file(part_of_x) == "half of x");
}

TEST_CASE("downloader: a link planted as the task directory is not followed") {
    test_server server([&](const seen_request&) { return response(200, {}, "data"); });
    workspace dir("downloader-files-test");
    fs::create_directories(dir.path() / "elsewhere");
    fs::create_directories(dir.path() / "stems");
    fs::create_directory_symlink(dir.path() / "elsewhere", dir.path() / "stems" / "task");
    for (const fs::path below : {"task", "task/wav"}) {
        CAPTURE(below);
        auto r = request_for(server, "/x.mp3", dir);
        r.root = dir.path() / "stems";
        r.directory = r.root / below;
        const auto got = fetch(r);
        REQUIRE_FALSE(got.has_value());
        CHECK(got.error().code == error::file_io);
        CHECK(got.error().message.find("symbolic link") != std::string::npos);
        CHECK(got.error().message.find((dir.path() / "stems" / "task").string()) !=
              std::string::npos);
    }
    CHECK(fs::is_empty(dir.path() / "elsewhere"));
    CHECK(server.requests().empty());
}

TEST_CASE("downloader: a link planted as the .part fails, one as the final name is replaced") {
    test_server server([&](const seen_request&) { return response(200, {}, "data"); });
    workspace dir("downloader-files-test");
    const auto r = request_for(server, "/x.mp3", dir);
    fs::create_directories(r.directory);
    write_file(dir.path() / "target", "untouched");
    fs::create_symlink(dir.path() / "target", r.directory / "track_vocals.mp3.part");

    const auto refused = fetch(r);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == error::file_io);
    CHECK(refused.error().message.find("symbolic link") != std::string::npos);
    CHECK(read_file(dir.path() / "target") == "untouched");

    fs::remove(r.directory / "track_vocals.mp3.part");
    fs::create_symlink(dir.path() / "target", r.directory / "track_vocals.mp3");
    const auto replaced = fetch(r);
    REQUIRE(replaced.has_value());
    CHECK_FALSE(replaced->already_complete);
    CHECK_FALSE(fs::is_symlink(r.directory / "track_vocals.mp3"));
    CHECK(read_file(r.directory / "track_vocals.mp3") == "data");
    CHECK(read_file(dir.path() / "target") == "untouched");
}

TEST_CASE("downloader: two downloads of one file never write it at once") {
    const std::string body = make_body(120'000);
    // A slow answer: the first download holds its .part for a while.
    test_server server(
        [&](const seen_request&) {
            return response(200, {{"Content-Type", "audio/mpeg"}, {"ETag", "\"v1\""}}, body);
        },
        pacing{4096, std::chrono::milliseconds(20)});
    workspace dir("downloader-files-test");
    const auto r = request_for(server, "/x.mp3", dir);
    const fs::path part = r.directory / "track_vocals.mp3.part";

    std::optional<outcome> first;
    std::thread writer([&] { first = fetch(r); });
    const bool started = eventually([&] {
        std::error_code ec;
        return fs::file_size(part, ec) > 0 && !ec;
    });
    std::optional<outcome> second;
    if (started)
        second = fetch(r);
    writer.join();
    REQUIRE(started);

    REQUIRE_FALSE(second->has_value());
    CHECK((*second).error().code == error::file_io);
    CHECK((*second).error().transient());
    CHECK((*second).error().message.find("another download") != std::string::npos);
    REQUIRE(first->has_value());
    CHECK(read_file((*first)->path) == body);
    CHECK((*first)->sha256 == sha256_hex(body));
}

// Run under strace by fsync_check.sh (dirs), which checks that the parent of every
// directory made here is fsync'd after the mkdir.
TEST_CASE("downloader: new directories are made durable") {
    test_server server([&](const seen_request&) { return response(200, {}, "data"); });
    workspace dir("downloader-durable");
    auto r = request_for(server, "/x.mp3", dir);
    r.root = dir.path() / "out" / "stems";
    r.directory = r.root / "task" / "wav";
    const auto got = fetch(r);
    REQUIRE(got.has_value());
    CHECK(read_file(r.directory / "track_vocals.mp3") == "data");
}

TEST_CASE("downloader: a resumed prefix is hashed while the io thread goes on") {
    test_server server(rest_of_big_object());
    workspace dir("downloader-files-test");
    const auto r = request_for(server, "/x.mp3", dir);
    leave_big_part(r);

    // Another task on the same io thread, as the API's handlers are, is
    // what lets the held hash go: it cannot run if the hash blocks the
    // thread, and the gate then gives up after 10 s.
    hash_gate gate;
    bool let_go = false;
    const auto got = run_beside(r, [&] {
        if (!let_go && gate.started()) {
            let_go = true;
            gate.release();
        }
        return true;
    });
    REQUIRE(got.has_value());
    REQUIRE(got->has_value());
    CHECK((*got)->resumed_from == big_prefix);
    stemd::sha256 whole;
    const std::string zeros(1 << 20, '\0');
    for (std::uint64_t i = 0; i < big_prefix / zeros.size(); ++i)
        whole.update(zeros);
    whole.update(prefix_tail);
    CHECK((*got)->sha256 == whole.finish_hex());
    CHECK(let_go);
    CHECK(gate.released_in_time());
}

TEST_CASE("downloader: a shutdown during a prefix hash stops the worker and touches nothing") {
    test_server server(rest_of_big_object());
    workspace dir("downloader-files-test");
    const auto r = request_for(server, "/x.mp3", dir);
    const fs::path part = leave_big_part(r);
    // Stops the loop while the hash is held under way; the download is
    // then destroyed unfinished with the io_context, as at a shutdown.
    hash_gate gate;
    const auto got = run_beside(r, [&] { return !gate.started(); });
    gate.release();
    CHECK_FALSE(got.has_value());
    // The worker gives up at its next chunk and closes its descriptor.
    CHECK(eventually([&] { return !is_open(part); }));
    CHECK(fs::file_size(part) == big_prefix);
}
