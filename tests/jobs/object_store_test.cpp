#include "jobs/object_store.hpp"

#include "common/file_names.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>

#include <exception>
#include <optional>
#include <string>
#include <vector>

// Naming objects and refusing to prune outside the prefix need no S3
// server: nothing here makes a request (the endpoint is never dialled).

namespace net = boost::asio;
using namespace stemd;

namespace {

jobs::s3_output_options s3_options(std::string prefix) {
    jobs::s3_output_options o;
    o.client.endpoint = "http://127.0.0.1:9"; // never dialled
    o.client.bucket = "stems-bucket";
    o.client.access_key = "AK";
    o.client.secret_key = "SK";
    o.prefix = std::move(prefix);
    return o;
}

storage::file_record record_of(std::string name, std::string subdir, std::string path) {
    storage::file_record f;
    f.job_id = "job-1";
    f.name = std::move(name);
    f.subdir = std::move(subdir);
    f.path = std::move(path);
    return f;
}

jobs::stem_removal remove_all(jobs::object_store& objects, std::vector<std::string> paths) {
    net::io_context ioc;
    std::optional<jobs::stem_removal> out;
    std::exception_ptr failure;
    net::co_spawn(ioc, objects.remove(paths), [&](std::exception_ptr e, jobs::stem_removal r) {
        failure = e;
        if (!e)
            out.emplace(std::move(r));
    });
    ioc.run();
    if (failure)
        std::rethrow_exception(failure);
    return std::move(*out);
}

} // namespace

TEST_CASE("object store: the key is prefix, task folder, subdir and name, whatever output_dir") {
    jobs::object_store objects(s3_options("stems"));
    // Planned under an earlier output_dir: the path plays no part.
    const auto wav = record_of("vocals", "wav", "/old/output/task-1/wav/vocals.wav");
    CHECK(objects.key_base("task-1", wav) == "stems/task-1/wav/vocals");
    CHECK(objects.key_base("task-1", record_of("vocals", "", "/x/vocals.mp3")) ==
          "stems/task-1/vocals");
    // Two jobs' wav stems never share a key (the defect: both were "wav/vocals").
    CHECK(objects.key_base("task-2", wav) == "stems/task-2/wav/vocals");
    CHECK(objects.key_base("task-1", wav) != objects.key_base("task-2", wav));
    // The task folder is the local output's: safe_dir, one to one.
    CHECK(objects.key_base("../A b", wav) == "stems/" + safe_dir("../A b") + "/wav/vocals");
    CHECK(objects.key_base("A", wav) != objects.key_base("a", wav));

    jobs::object_store bare(s3_options(""));
    CHECK(bare.key_base("task-1", wav) == "task-1/wav/vocals");
}

TEST_CASE("object store: pruning keeps objects outside the prefix and reports them") {
    jobs::object_store objects(s3_options("stems"));
    CHECK(objects.within_prefix("stems/task-1/vocals.mp3"));
    CHECK_FALSE(objects.within_prefix("stemsX/task-1/vocals.mp3"));
    CHECK_FALSE(objects.within_prefix("other/vocals.mp3"));
    CHECK_FALSE(objects.within_prefix("stems"));
    CHECK_FALSE(objects.within_prefix("stems/"));

    const auto r = remove_all(objects, {"s3://stems-bucket/other/vocals.mp3",
                                        "s3://stems-bucket/stemsX/t/vocals.mp3",
                                        "s3://another-bucket/stems/t/vocals.mp3"});
    CHECK(r.files == 0);
    REQUIRE(r.kept.size() == 3);
    CHECK(r.kept[0].find("s3://stems-bucket/other/vocals.mp3") == 0);
    CHECK(r.kept[0].find("not below the prefix \"stems/\"") != std::string::npos);
    CHECK(r.kept[1].find("not below the prefix") != std::string::npos);
    CHECK(r.kept[2].find("not an object of bucket stems-bucket") != std::string::npos);

    // Without a prefix the whole bucket is stemd's.
    jobs::object_store bare(s3_options(""));
    CHECK(bare.within_prefix("other/vocals.mp3"));
}
