// `stemd open`: a link that signs a browser in to the page without typing
// the API token, as Jupyter's token URLs do: the daemon hands out a one-time
// code (good for 60 s) and the page posts it from the URL's fragment, which
// a browser never sends to a server or keeps in a Referer.

#include "cli/api_client.hpp"
#include "cli/command.hpp"
#include "cli/error.hpp"
#include "cli/job_view.hpp"

#include <iostream>

namespace stemd::cli {

namespace {

using boost::program_options::variables_map;

void describe(option_set& o) {
    add_client_options(o);
}

// http://<host:port><base path>/#code=<code>: the page at the API's root.
std::string page_link(const client::http_url& base, const std::string& code) {
    std::string path = base.target.substr(0, base.target.find('?'));
    while (path.ends_with('/'))
        path.pop_back();
    return std::string(base.https ? "https://" : "http://") + base.host_header() + path +
           "/#code=" + code;
}

result<int> run(const variables_map& vm) {
    const auto address = api_address_of(vm);
    auto base = api_base_url(address);
    if (!base)
        return base.error();
    auto api = open_api(address);
    if (!api)
        return api.error();
    auto a = api->call(method::post, "/v1/session/code", "{}");
    if (!a)
        return a.error();
    if (a->status != 200)
        return api->refusal(*a, "get a sign-in code");
    auto answer = api->object_of(*a);
    if (!answer)
        return answer.error();
    const auto* code = answer->if_contains("code");
    if (!code || !code->is_string())
        return failure(error::bad_answer,
                       "the API's answer to POST /v1/session/code holds no code; is this "
                       "stemd as new as the CLI?");
    if (json_wanted(vm)) {
        print_raw(std::cout, a->body);
        return exit_ok;
    }
    std::cout << page_link(*base, std::string(code->get_string())) << '\n';
    return exit_ok;
}

} // namespace

const command& open_command() {
    static const command c{
        "open",
        "[--json]",
        "print a link that signs a browser in to the page",
        "Asks stemd for a one-time sign-in code and prints the page's URL with it,\n"
        "http://<api.listen>/#code=<code>. Open it in a browser on this machine within\n"
        "60 seconds; it signs in once (a second use is refused) and the page keeps an\n"
        "HttpOnly session cookie. Without it, the page asks for the API token.\n",
        describe,
        run,
    };
    return c;
}

} // namespace stemd::cli
