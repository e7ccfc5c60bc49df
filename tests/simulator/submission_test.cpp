#include "simulator/submission.hpp"

#include "simulator/error.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace stemd::simulator;
namespace http = boost::beast::http;

namespace {

using field = std::pair<std::string, std::string>;

stemd::listener::request form(const std::vector<field>& fields, const std::string& key = "k") {
    stemd::listener::request req{http::verb::post, "/api/public/v2/Extraction", 11};
    if (!key.empty()) {
        req.set(http::field::authorization, key);
    }
    req.set(http::field::content_type, "multipart/form-data; boundary=b0");
    std::string body;
    for (const auto& [name, value] : fields) {
        body += "--b0\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value +
                "\r\n";
    }
    req.body() = body + "--b0--\r\n";
    return req;
}

error refusal(const stemd::listener::request& req, const simulator_options& options = {}) {
    const auto r = accept(req, 2, options);
    REQUIRE_FALSE(r.has_value());
    return static_cast<error>(r.error().code.value());
}

} // namespace

TEST_CASE("check_authorization: any non-empty key, or exactly the configured one") {
    CHECK(check_authorization("anything", "").has_value());
    CHECK_FALSE(check_authorization("  ", "").has_value());
    CHECK(check_authorization(" secret ", "secret").has_value());
    CHECK_FALSE(check_authorization("secreT", "secret").has_value());
    CHECK(check_authorization("", "").error().code == error::unauthorized);
}

TEST_CASE("accept makes a task with defaults, the webhook URL and the markers") {
    simulator_options options;
    options.webhook_delay = std::chrono::milliseconds(0);
    const auto s = accept(form({{"audio_url", "https://x/a.mp3?sim-fail&sim-fault=short"},
                                {"webhook_url", "https://hook.test/w"}}),
                          2, options);
    REQUIRE(s.has_value());
    const task& t = *s->accepted;
    CHECK(t.api_version == 2);
    CHECK(t.task_id.size() == 36);
    CHECK(t.task_id != t.conversion_id);
    CHECK(t.stems == std::vector<std::string>{"drums", "bass", "piano", "guitar"});
    CHECK(t.fail);
    CHECK(t.faults == "short");
    CHECK(t.audio_path == "https://x/a.mp3?sim-fail&sim-fault=short");
    REQUIRE(s->webhook);
    CHECK(s->webhook->to_string() == "https://hook.test/w");
    CHECK(s->uploaded_bytes == 0);
}

TEST_CASE("accept withholds the webhook of a task marked sim-no-webhook") {
    const auto s = accept(form({{"audio_url", "https://x/a.mp3?sim-no-webhook"},
                                {"webhook_url", "https://hook.test/w"}}),
                          2, {});
    REQUIRE(s.has_value());
    CHECK_FALSE(s->webhook);
    CHECK_FALSE(s->accepted->fail);
}

TEST_CASE("accept: uploads, chosen stems without duplicates") {
    const auto s =
        accept(form({{"audio_file", "RIFF...."}, {"stems", "[\"vocals\",\"vocals\"]"}}), 1, {});
    REQUIRE(s.has_value());
    CHECK(s->accepted->stems == std::vector<std::string>{"vocals"});
    CHECK(s->accepted->audio_path.empty());
    CHECK(s->uploaded_bytes == 8);
    CHECK_FALSE(s->webhook);
}

TEST_CASE("accept refuses in MusicGPT's order: key, shape, content, business") {
    simulator_options keyed;
    keyed.api_key = "right";
    CHECK(refusal(form({{"audio_url", "https://x"}}, ""), {}) == error::unauthorized);
    CHECK(refusal(form({{"audio_url", "https://x"}}, "wrong"), keyed) == error::unauthorized);
    auto not_form = form({});
    not_form.set(http::field::content_type, "application/json");
    CHECK(refusal(not_form) == error::bad_request);
    CHECK(refusal(form({{"stems", "[\"drums\"]"}})) == error::unprocessable);
    CHECK(refusal(form({{"audio_url", "https://x"}, {"stems", "[\"kazoo\"]"}})) ==
          error::bad_request);
    CHECK(refusal(form({{"audio_url", "https://x"}, {"stems", "drums"}})) == error::bad_request);
    CHECK(refusal(form({{"audio_url", "https://x"}, {"preprocessing_options", "[\"Loud\"]"}})) ==
          error::bad_request);
    CHECK(refusal(form({{"audio_url", "https://x"}, {"webhook_url", "not a url"}})) ==
          error::bad_request);
    CHECK(refusal(form({{"audio_url", "https://x?sim-error=402"}})) == error::insufficient_credits);
    CHECK(refusal(form({{"audio_url", "https://x?sim-error=429"}})) == error::too_many_requests);
    CHECK(refusal(form({{"audio_url", "https://x?sim-fault=melt"}})) == error::bad_request);
    // A malformed field is reported before a forced business error.
    CHECK(refusal(form({{"audio_url", "https://x?sim-error=500"}, {"stems", "[1]"}})) ==
          error::bad_request);
}
