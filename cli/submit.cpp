// `stemd submit`: a new job from a URL or a local file, optionally waited for.

#include "cli/api_client.hpp"
#include "cli/command.hpp"
#include "cli/error.hpp"
#include "cli/job_view.hpp"
#include "cli/wait.hpp"
#include "client/media_type.hpp"
#include "client/multipart.hpp"
#include "common/json_text.hpp"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <filesystem>
#include <iostream>
#include <system_error>

namespace stemd::cli {

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using boost::program_options::variables_map;

void describe(option_set& o) {
    o.value("url", "URL", "audio to fetch from a URL");
    o.value("file", "PATH", "audio file on this machine");
    o.list("stems", "a,b", "stems to extract, e.g. vocals,drums (default: MusicGPT's choice)");
    o.list("preprocess", "X[,Y]", "preprocessing: Denoise, Deecho, Dereverb");
    o.flag("eco", "eco mode (MusicGPT API v2)");
    o.flag("wait", "then wait until the job has completed or failed");
    add_timeout_option(o, "with --wait: give up after this long (default: no limit)");
    add_client_options(o);
}

// A --file is uploaded (its bytes, not its path): `stemd serve` opens no
// path a client names unless api.file_roots allows it.
result<json::value> audio_source(const variables_map& vm) {
    const auto url = optional_string(vm, "url");
    const auto file = optional_string(vm, "file");
    if (url.has_value() == file.has_value())
        return usage_error("give either --url URL or --file PATH (exactly one)");
    if (url)
        return json::value(*url);
    std::error_code ec;
    const auto path = fs::absolute(*file, ec);
    if (ec || !fs::is_regular_file(path, ec))
        return failure(error::no_file, "no audio file at " + (ec ? *file : path.string()) +
                                           "; check the path given to --file");
    return json::value(path.string());
}

json::array string_array(const std::vector<std::string>& items) {
    json::array out;
    for (const auto& item : items)
        out.emplace_back(item);
    return out;
}

// The body of POST /v1/jobs.
result<json::object> submission(const variables_map& vm) {
    auto source = audio_source(vm);
    if (!source)
        return source.error();
    auto stems = list_option(vm, "stems", "vocals,drums");
    if (!stems)
        return stems.error();
    auto preprocess = list_option(vm, "preprocess", "Denoise");
    if (!preprocess)
        return preprocess.error();

    json::object body;
    if (vm.count("url"))
        body["audio_url"] = std::move(*source);
    if (*stems)
        body["stems"] = string_array(**stems);
    if (*preprocess)
        body["preprocessing_options"] = string_array(**preprocess);
    if (vm["eco"].as<bool>())
        body["eco_mode"] = true;
    return body;
}

// --file as multipart/form-data: the file as part audio_file, the options
// as one JSON part `options`.
client::multipart_form upload_form(const variables_map& vm, const json::object& options) {
    const auto path = fs::absolute(vm["file"].as<std::string>());
    client::multipart_form form;
    if (!options.empty())
        form.add_field("options", json_text(options));
    form.add_file("audio_file", path, client::audio_content_type(path));
    return form;
}

result<int> run(const variables_map& vm) {
    auto body = submission(vm);
    if (!body)
        return body.error();
    auto timeout = timeout_option(vm);
    if (!timeout)
        return timeout.error();
    const bool wait = vm["wait"].as<bool>();
    const bool as_json = json_wanted(vm);
    if (*timeout && !wait)
        return usage_error("--timeout applies to --wait; add --wait or leave it out");

    auto api = open_api(api_address_of(vm));
    if (!api)
        return api.error();
    auto a = vm.count("url") ? api->call(method::post, "/v1/jobs", json_text(*body))
                             : api->upload("/v1/jobs", upload_form(vm, *body));
    if (!a)
        return a.error();
    if (a->status < 200 || a->status > 299)
        return api->refusal(*a, "submit the job");
    auto job = api->object_of(*a);
    if (!job)
        return job.error();
    if (!wait) {
        show_job(std::cout, a->body, *job, as_json);
        return exit_ok;
    }
    const auto id = text_field(*job, "id");
    if (id.empty())
        return failure(error::bad_answer,
                       "the stemd API accepted the job but gave no id; run `stemd list`");
    if (!as_json)
        std::cerr << "stemd: submitted job " << id << "; waiting for it to finish\n";
    return wait_for_job(*api, id, *timeout, as_json);
}

} // namespace

const command& submit_command() {
    static const command c{
        "submit",
        "(--url URL | --file PATH) [--stems a,b] [--preprocess X[,Y]] [--eco] [--wait] [--json]",
        "submit audio for stem extraction and print the new job",
        "A --file is uploaded to `stemd serve` (streamed, up to api.upload_max_bytes).\n"
        "With --wait the exit code is that of `stemd wait`.\n",
        describe,
        run,
    };
    return c;
}

} // namespace stemd::cli
