#include "server/simulator.hpp"

#include "client/connection.hpp"
#include "client/url.hpp"
#include "listener/http_server.hpp"
#include "common/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <csignal>
#include <ctime>
#include <deque>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace stemd::server {

// Until the simulator has its own library (it is moving to simulator/).
using namespace stemd::listener;

namespace net = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

// ---------------------------------------------------------------------------
// Deterministic stem audio.

constexpr std::uint64_t wav_header_bytes = 44;
constexpr std::uint32_t sample_rate = 44'100;
constexpr std::uint16_t bytes_per_sample = 2; // 16-bit mono

std::uint64_t fnv1a(std::string_view text, std::uint64_t hash = 0xcbf29ce484222325ULL) {
    for (const char c : text) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

std::uint64_t stem_seed(std::string_view task_id, std::string_view stem) {
    return fnv1a(stem, fnv1a("/", fnv1a(task_id)));
}

constexpr std::size_t block_bytes = 8; // four samples from one 64-bit draw

// The block-th output of a splitmix64 generator seeded with `seed`: the
// generator's state after n steps is seed + n * gamma, so any block can be
// computed directly and a byte range costs only its own length.
std::uint64_t splitmix64_at(std::uint64_t seed, std::uint64_t block) {
    std::uint64_t z = seed + (block + 1) * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// Data bytes [8 * block, 8 * block + 8): four little-endian 16-bit samples.
std::array<char, block_bytes> sample_block(std::uint64_t seed, std::uint64_t block) {
    const std::uint64_t bits = splitmix64_at(seed, block);
    std::array<char, block_bytes> out{};
    for (std::size_t k = 0; k < block_bytes / bytes_per_sample; ++k) {
        const auto full = static_cast<std::int16_t>(static_cast<std::uint16_t>(bits >> (16 * k)));
        // Quiet noise (a quarter of full scale) rather than a full-scale hiss.
        const auto sample = static_cast<std::uint16_t>(full / 4);
        out[2 * k] = static_cast<char>(sample & 0xff);
        out[2 * k + 1] = static_cast<char>(sample >> 8);
    }
    return out;
}

void put_le(std::array<char, wav_header_bytes>& h, std::size_t at, std::uint32_t v,
            std::size_t width) {
    for (std::size_t i = 0; i < width; ++i) {
        h[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
    }
}

void put_tag(std::array<char, wav_header_bytes>& h, std::size_t at, std::string_view tag) {
    std::copy(tag.begin(), tag.end(), h.begin() + static_cast<std::ptrdiff_t>(at));
}

// RIFF size fields are 32 bits; files beyond 4 GiB keep the largest value.
std::uint32_t size_field(std::uint64_t total, std::uint64_t minus) {
    const std::uint64_t v = total > minus ? total - minus : 0;
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(v, 0xffffffffULL));
}

std::array<char, wav_header_bytes> wav_header(std::uint64_t total) {
    std::array<char, wav_header_bytes> h{};
    put_tag(h, 0, "RIFF");
    put_le(h, 4, size_field(total, 8), 4);
    put_tag(h, 8, "WAVE");
    put_tag(h, 12, "fmt ");
    put_le(h, 16, 16, 4); // fmt chunk size
    put_le(h, 20, 1, 2);  // PCM
    put_le(h, 22, 1, 2);  // channels
    put_le(h, 24, sample_rate, 4);
    put_le(h, 28, sample_rate * bytes_per_sample, 4); // byte rate
    put_le(h, 32, bytes_per_sample, 2);               // block align
    put_le(h, 34, 16, 2);                             // bits per sample
    put_tag(h, 36, "data");
    put_le(h, 40, size_field(total, wav_header_bytes), 4);
    return h;
}

} // namespace

std::string stem_audio_range(const std::string& task_id, const std::string& stem,
                             std::uint64_t total_bytes, std::uint64_t offset,
                             std::uint64_t length) {
    if (offset >= total_bytes) {
        return {};
    }
    const std::uint64_t end = offset + std::min(length, total_bytes - offset);
    std::string out;
    out.reserve(static_cast<std::size_t>(end - offset));

    std::uint64_t pos = offset;
    if (pos < wav_header_bytes) {
        const auto header = wav_header(total_bytes);
        for (; pos < end && pos < wav_header_bytes; ++pos) {
            out.push_back(header[static_cast<std::size_t>(pos)]);
        }
    }
    const std::uint64_t seed = stem_seed(task_id, stem);
    while (pos < end) {
        const std::uint64_t data_pos = pos - wav_header_bytes;
        const auto block = sample_block(seed, data_pos / block_bytes);
        const auto from = static_cast<std::size_t>(data_pos % block_bytes);
        const auto take =
            static_cast<std::size_t>(std::min<std::uint64_t>(block_bytes - from, end - pos));
        out.append(block.data() + from, take);
        pos += take;
    }
    return out;
}

std::string stem_audio(const std::string& task_id, const std::string& stem, std::uint64_t bytes) {
    return stem_audio_range(task_id, stem, bytes, 0, bytes);
}

namespace {

// ---------------------------------------------------------------------------
// Small text helpers.

void note(log_level level, const std::string& text) {
    log(level, "", "stemd simulate: " + text);
}

char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return ascii_lower(x) == ascii_lower(y);
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

// Compares without stopping at the first difference, so response timing does
// not reveal how much of a guessed key was right.
bool same_secret(std::string_view given, std::string_view expected) {
    unsigned diff = given.size() == expected.size() ? 0U : 1U;
    for (std::size_t i = 0; i < given.size(); ++i) {
        const char other = i < expected.size() ? expected[i] : '\0';
        diff |= static_cast<unsigned char>(given[i]) ^ static_cast<unsigned char>(other);
    }
    return diff == 0;
}

std::optional<std::uint64_t> parse_decimal(std::string_view text) {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return v;
}

std::string new_uuid() {
    static thread_local boost::uuids::random_generator generate;
    return boost::uuids::to_string(generate());
}

std::string iso_time(std::chrono::system_clock::time_point t) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
    const std::time_t seconds = static_cast<std::time_t>(ms.count() / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    std::array<char, 32> text{};
    const auto n = std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%S", &utc);
    std::array<char, 8> millis{};
    std::snprintf(millis.data(), millis.size(), ".%03dZ", static_cast<int>(ms.count() % 1000));
    return std::string(text.data(), n) + millis.data();
}

// ---------------------------------------------------------------------------
// multipart/form-data, server side (RFC 7578).

// `name="value"; other=token` after a media type or disposition type; names
// are lowercased. nullopt when a quoted string is not closed.
std::optional<std::map<std::string, std::string>> parse_parameters(std::string_view rest) {
    std::map<std::string, std::string> out;
    while (true) {
        rest = trim(rest);
        if (rest.empty()) {
            return out;
        }
        if (rest.front() != ';') {
            return std::nullopt;
        }
        rest = trim(rest.substr(1));
        const auto name_end = rest.find_first_of("=;");
        std::string name(trim(rest.substr(0, name_end)));
        std::transform(name.begin(), name.end(), name.begin(), ascii_lower);
        if (name_end == std::string_view::npos || rest[name_end] == ';') {
            rest = name_end == std::string_view::npos ? std::string_view{} : rest.substr(name_end);
            out.emplace(std::move(name), std::string{});
            continue;
        }
        rest = trim(rest.substr(name_end + 1));
        std::string value;
        if (!rest.empty() && rest.front() == '"') {
            std::size_t i = 1;
            for (; i < rest.size() && rest[i] != '"'; ++i) {
                if (rest[i] == '\\' && i + 1 < rest.size()) {
                    ++i;
                }
                value.push_back(rest[i]);
            }
            if (i >= rest.size()) {
                return std::nullopt;
            }
            rest.remove_prefix(i + 1);
        } else {
            const auto value_end = rest.find(';');
            value = trim(rest.substr(0, value_end));
            rest =
                value_end == std::string_view::npos ? std::string_view{} : rest.substr(value_end);
        }
        out.emplace(std::move(name), std::move(value));
    }
}

struct form_part {
    std::string name;
    std::string_view content; // points into the request body
};

struct form_problem {
    std::string message;
};

using form_result = boost::system::result<std::vector<form_part>, form_problem>;

// The boundary of a multipart/form-data Content-Type, or "" when the type is
// something else or has no usable boundary.
std::string form_boundary(std::string_view content_type) {
    const auto semicolon = content_type.find(';');
    if (!iequals(trim(content_type.substr(0, semicolon)), "multipart/form-data") ||
        semicolon == std::string_view::npos) {
        return {};
    }
    const auto params = parse_parameters(content_type.substr(semicolon));
    if (!params) {
        return {};
    }
    const auto it = params->find("boundary");
    // RFC 2046 allows 1 to 70 characters.
    if (it == params->end() || it->second.empty() || it->second.size() > 70) {
        return {};
    }
    return it->second;
}

// Reads one part's header block for the part's name (a file part's
// filename and Content-Type do not matter to the simulator).
std::optional<form_problem> read_part_headers(std::string_view block, form_part& part) {
    bool has_disposition = false;
    while (!block.empty()) {
        const auto eol = block.find("\r\n");
        const std::string_view line = block.substr(0, eol);
        block = eol == std::string_view::npos ? std::string_view{} : block.substr(eol + 2);
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            return form_problem{"a part header line has no ':'"};
        }
        if (!iequals(trim(line.substr(0, colon)), "content-disposition")) {
            continue;
        }
        const std::string_view value = trim(line.substr(colon + 1));
        const auto semicolon = value.find(';');
        const auto params = parse_parameters(
            semicolon == std::string_view::npos ? std::string_view{} : value.substr(semicolon));
        if (!iequals(trim(value.substr(0, semicolon)), "form-data") || !params) {
            return form_problem{"a part's Content-Disposition is not form-data with parameters"};
        }
        has_disposition = true;
        if (const auto it = params->find("name"); it != params->end()) {
            part.name = it->second;
        }
    }
    if (!has_disposition) {
        return form_problem{"a part has no Content-Disposition header"};
    }
    return std::nullopt;
}

form_result parse_form_data(std::string_view content_type, std::string_view body) {
    const std::string boundary = form_boundary(content_type);
    if (boundary.empty()) {
        return form_problem{"the body must be multipart/form-data with a boundary parameter"};
    }
    const std::string delimiter = "--" + boundary;
    const std::string next_delimiter = "\r\n" + delimiter;

    std::size_t pos = 0;
    if (!body.starts_with(delimiter)) {
        pos = body.find(next_delimiter);
        if (pos == std::string_view::npos) {
            return form_problem{"the body does not contain the boundary from Content-Type"};
        }
        pos += 2; // skip the preamble's CRLF
    }
    std::vector<form_part> parts;
    while (true) {
        pos += delimiter.size();
        if (body.substr(pos).starts_with("--")) {
            return parts;
        }
        while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) {
            ++pos; // transport padding
        }
        if (!body.substr(pos).starts_with("\r\n")) {
            return form_problem{"a boundary line is not followed by CRLF"};
        }
        pos += 2;
        std::size_t content_start = 0;
        std::string_view header_block;
        if (body.substr(pos).starts_with("\r\n")) {
            content_start = pos + 2;
        } else {
            const auto headers_end = body.find("\r\n\r\n", pos);
            if (headers_end == std::string_view::npos) {
                return form_problem{"a part's headers are not terminated by an empty line"};
            }
            header_block = body.substr(pos, headers_end - pos);
            content_start = headers_end + 4;
        }
        const auto content_end = body.find(next_delimiter, content_start);
        if (content_end == std::string_view::npos) {
            return form_problem{"the body ends inside a part (the closing boundary is missing)"};
        }
        form_part part;
        if (auto failed = read_part_headers(header_block, part)) {
            return std::move(*failed);
        }
        part.content = body.substr(content_start, content_end - content_start);
        parts.push_back(std::move(part));
        pos = content_end + 2;
    }
}

const form_part* find_part(const std::vector<form_part>& parts, std::string_view name) {
    const auto it = std::find_if(parts.begin(), parts.end(),
                                 [&](const form_part& p) { return p.name == name; });
    return it == parts.end() ? nullptr : &*it;
}

// ---------------------------------------------------------------------------
// Byte ranges (RFC 9110 section 14).

struct byte_range {
    enum class kind { whole, part, unsatisfiable };
    kind what = kind::whole;
    std::uint64_t first = 0;
    std::uint64_t last = 0; // inclusive
};

// One range of a Range header. Syntax the simulator does not serve (other
// units, several ranges, garbage) is ignored, as RFC 9110 allows: the whole
// file is sent.
byte_range interpret_range(std::string_view header, std::uint64_t size) {
    header = trim(header);
    constexpr std::string_view unit = "bytes=";
    if (header.size() < unit.size() || !iequals(header.substr(0, unit.size()), unit)) {
        return {};
    }
    const std::string_view spec = trim(header.substr(unit.size()));
    const auto dash = spec.find('-');
    if (spec.find(',') != std::string_view::npos || dash == std::string_view::npos) {
        return {};
    }
    const std::string_view first_text = trim(spec.substr(0, dash));
    const std::string_view last_text = trim(spec.substr(dash + 1));
    if (first_text.empty()) {
        const auto suffix = parse_decimal(last_text);
        if (!suffix) {
            return {};
        }
        if (*suffix == 0 || size == 0) {
            return {byte_range::kind::unsatisfiable};
        }
        return {byte_range::kind::part, size - std::min(*suffix, size), size - 1};
    }
    const auto first = parse_decimal(first_text);
    const auto last =
        last_text.empty() ? std::optional<std::uint64_t>{size - 1} : parse_decimal(last_text);
    if (!first || !last || (!last_text.empty() && *last < *first)) {
        return {};
    }
    if (*first >= size) {
        return {byte_range::kind::unsatisfiable};
    }
    return {byte_range::kind::part, *first, std::min(*last, size - 1)};
}

// ---------------------------------------------------------------------------
// Download faults. A test asks for them with "sim-fault=NAME[,NAME...]" in
// the submitted audio_url; the task's stem links then carry "?fault=..."
// and the file handler misbehaves as named. One-shot faults hit only the
// first request for each file, so a retry can show recovery; the others
// hold for every request, as a misconfigured server would.

constexpr std::string_view fault_marker = "sim-fault=";
constexpr std::string_view known_faults =
    "503-once, close-mid, short, stall[-SECONDS], no-range, redirect-N, redirect-loop";
constexpr std::uint64_t default_stall_seconds = 5;
constexpr std::uint64_t max_stall_seconds = 3600;
constexpr std::uint64_t max_redirect_hops = 20;

struct fault_plan {
    bool unavailable_once = false; // 503-once: HTTP 503 instead of the file
    bool close_mid = false;        // close-mid: half the body, then the connection drops
    bool short_body = false;       // short: all but the last byte, then the connection drops
    std::chrono::seconds stall{0}; // stall[-S]: half the body, S s of silence, then a drop
    bool no_range = false;         // no-range: Range is ignored (always 200, whole file)
    std::uint64_t redirects = 0;   // redirect-N: a chain of N redirects before the file
    bool redirect_loop = false;    // redirect-loop: the chain comes back to the link itself

    bool one_shot() const {
        return unavailable_once || close_mid || short_body || stall.count() > 0;
    }
};

// `NAME-DIGITS` as the number; nullopt when `word` is not that shape.
std::optional<std::uint64_t> numbered(std::string_view word, std::string_view name) {
    if (!word.starts_with(name) || word.size() <= name.size() + 1 || word[name.size()] != '-') {
        return std::nullopt;
    }
    return parse_decimal(word.substr(name.size() + 1));
}

// "close-mid,no-range" and the like; nullopt when a name is unknown.
std::optional<fault_plan> parse_faults(std::string_view text) {
    fault_plan plan;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view word = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        if (word == "503-once") {
            plan.unavailable_once = true;
        } else if (word == "close-mid") {
            plan.close_mid = true;
        } else if (word == "short") {
            plan.short_body = true;
        } else if (word == "no-range") {
            plan.no_range = true;
        } else if (word == "redirect-loop") {
            plan.redirect_loop = true;
        } else if (word == "stall") {
            plan.stall = std::chrono::seconds(default_stall_seconds);
        } else if (const auto s = numbered(word, "stall"); s && *s > 0 && *s <= max_stall_seconds) {
            plan.stall = std::chrono::seconds(*s);
        } else if (const auto n = numbered(word, "redirect"); n && *n > 0 && *n <= max_redirect_hops) {
            plan.redirects = *n;
        } else {
            return std::nullopt;
        }
    }
    return plan;
}

// The fault list after "sim-fault=" in an audio URL ("" when there is none):
// the characters fault names use, up to anything else (such as '&').
std::string_view fault_text(std::string_view audio_url) {
    const auto at = audio_url.find(fault_marker);
    if (at == std::string_view::npos) {
        return {};
    }
    const std::string_view rest = audio_url.substr(at + fault_marker.size());
    const auto end = rest.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-,");
    return rest.substr(0, end);
}

// Thrown from a body stream to end the connection abruptly, as a crash or a
// cut cable would: the exception ends http_server's connection coroutine,
// which closes the socket without finishing the body or TLS.
struct dropped_connection : std::runtime_error {
    dropped_connection()
        : std::runtime_error("simulated fault: connection dropped mid-body, as the link asked") {}
};

// ---------------------------------------------------------------------------
// The simulated service.

const std::vector<std::string>& known_stems() {
    // clang-format off
    static const std::vector<std::string> stems = {
        "vocals", "male_vocal", "female_vocal", "lead_vocal", "back_vocal", "guitar",
        "acoustic_guitar", "electric_guitar", "rhythm_guitar", "solo_guitar", "drums",
        "kick_drum", "snare_drum", "toms", "hi_hat", "ride", "crash", "piano", "keys",
        "strings", "winds", "bass", "instrumental"};
    // clang-format on
    return stems;
}

const std::vector<std::string> default_stems = {"drums", "bass", "piano", "guitar"};
const std::set<std::string> known_preprocessing = {"Denoise", "Deecho", "Dereverb"};

constexpr std::size_t chunk_bytes = 64 * 1024;
constexpr int webhook_attempts = 5;
constexpr std::chrono::milliseconds first_backoff{200};
constexpr std::string_view failure_message = "Simulated extraction failure";
constexpr std::string_view slow_marker = "sim-slow-answer";
constexpr std::chrono::milliseconds slow_answer{1500};

struct task {
    int api_version = 2;
    std::string task_id;
    std::string conversion_id;
    std::vector<std::string> stems;
    std::string audio_path; // the submitted audio_url; "" for uploads
    bool fail = false;
    std::string faults; // "sim-fault=..." from the audio_url: the stem links carry it
    std::chrono::steady_clock::time_point ready_at;
    std::chrono::system_clock::time_point created_at;
    std::chrono::system_clock::time_point finished_at;

    double cost() const { return api_version == 1 ? 5.0 : 0.157; }
};

struct counters {
    std::uint64_t submissions = 0;
    std::uint64_t rejected_submissions = 0;
    std::uint64_t webhooks_delivered = 0;
    std::uint64_t webhook_attempts = 0;
    std::uint64_t webhook_failures = 0;
    std::uint64_t file_requests = 0;
    std::uint64_t range_requests = 0;
    std::uint64_t bytes_served = 0;
    std::uint64_t uploaded_bytes = 0;
    std::uint64_t status_requests = 0; // byId calls, answered or refused
    std::uint64_t status_429 = 0;      // byId calls refused by status_limit
    std::uint64_t expired_links = 0;   // file requests refused because the link expired
    std::uint64_t redirects_served = 0;
    std::uint64_t ranges_ignored = 0; // Range requests answered 200 (fault no-range)
    std::map<std::string, std::uint64_t, std::less<>> faults; // injected, by name
};

// A webhook the simulator delivered, as MusicGPT would know it: tests use
// it to redeliver exactly the same request.
struct delivered_webhook {
    std::string url;
    std::string body;
};

// A refusal: the HTTP status and MusicGPT's error body fields.
struct refusal {
    unsigned status;
    std::string error_code;
    std::string message;
};

reply api_error(unsigned status, std::string_view code, std::string_view message) {
    return json_reply(status,
                      json::object{{"success", false}, {"error_code", code}, {"message", message}});
}

reply api_error(const refusal& r) {
    return api_error(r.status, r.error_code, r.message);
}

refusal bad_request(std::string message) {
    return {400, "BAD_REQUEST", std::move(message)};
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        out += (out.empty() ? "" : ", ") + item;
    }
    return out;
}

// The `stems` field: a JSON list of known stem names, duplicates dropped.
boost::system::result<std::vector<std::string>, refusal> read_stems(const form_part* field) {
    if (field == nullptr || trim(field->content).empty()) {
        return default_stems;
    }
    boost::system::error_code ec;
    const json::value v = json::parse(field->content, ec);
    if (ec || !v.is_array()) {
        return bad_request("stems must be a JSON list of strings, e.g. [\"vocals\",\"drums\"]");
    }
    std::vector<std::string> stems;
    for (const auto& item : v.get_array()) {
        if (!item.is_string()) {
            return bad_request("stems must be a JSON list of strings");
        }
        std::string name(item.get_string());
        const auto& known = known_stems();
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            return bad_request("unknown stem \"" + name + "\"; known stems: " + join(known));
        }
        if (std::find(stems.begin(), stems.end(), name) == stems.end()) {
            stems.push_back(std::move(name));
        }
    }
    return stems.empty() ? default_stems : stems;
}

std::optional<refusal> check_preprocessing(const form_part* field) {
    if (field == nullptr || trim(field->content).empty()) {
        return std::nullopt;
    }
    boost::system::error_code ec;
    const json::value v = json::parse(field->content, ec);
    const auto allowed = [](const json::value& item) {
        return item.is_string() && known_preprocessing.contains(std::string(item.get_string()));
    };
    if (ec || !v.is_array() || !std::all_of(v.get_array().begin(), v.get_array().end(), allowed)) {
        return bad_request("preprocessing_options must be a JSON list of \"Denoise\", "
                           "\"Deecho\", \"Dereverb\"");
    }
    return std::nullopt;
}

// Errors a test forces through the audio URL.
std::optional<refusal> forced_error(std::string_view audio_url) {
    if (audio_url.find("sim-error=402") != std::string_view::npos) {
        return refusal{402, "INSUFFICIENT_CREDITS", "Insufficient credits (simulated)"};
    }
    if (audio_url.find("sim-error=429") != std::string_view::npos) {
        return refusal{429, "TOO_MANY_REQUESTS", "Too many requests (simulated)"};
    }
    if (audio_url.find("sim-error=500") != std::string_view::npos) {
        return refusal{500, "INTERNAL_SERVER_ERROR", "Internal server error (simulated)"};
    }
    return std::nullopt;
}

struct submission {
    std::shared_ptr<task> accepted;
    std::optional<client::http_url> webhook;
    std::uint64_t uploaded_bytes = 0;
};

enum class delivery { delivered, retry, give_up };

class simulator : public std::enable_shared_from_this<simulator> {
public:
    simulator(const simulator_options& options, std::shared_ptr<net::ssl::context> webhook_tls,
              net::any_io_executor ex)
        : options_(options), webhook_tls_(std::move(webhook_tls)), ex_(std::move(ex)) {}

    void set_public_url(std::string url) {
        while (url.ends_with('/')) {
            url.pop_back();
        }
        public_url_ = std::move(url);
    }
    const std::string& public_url() const { return public_url_; }

    // The handler given to http_server. The shared_ptr keeps the simulator
    // alive for as long as any request is being answered.
    static net::awaitable<reply> handle(std::shared_ptr<simulator> self, request& req) {
        // A slow upstream on request: tests use it to have a request of
        // their own in flight in the daemon at a moment they choose.
        if (req.body().find(slow_marker) != std::string::npos) {
            net::steady_timer timer(co_await net::this_coro::executor, slow_answer);
            co_await timer.async_wait(net::use_awaitable);
        }
        co_return self->route(req);
    }

    counters& stats() { return stats_; }

private:
    reply route(const request& req);
    reply submit(const request& req, int api_version);
    reply status(const request& req, const boost::urls::url_view& target) const;
    reply file(const request& req, std::string_view path);
    reply redirect(const boost::urls::url_view& link, std::uint64_t hop, const fault_plan& plan);
    void count_fault(const std::string& name) { ++stats_.faults[name]; }
    reply stats_reply() const;

    std::optional<refusal> check_authorization(const request& req) const;
    boost::system::result<submission, refusal> accept(const request& req, int api_version) const;
    std::shared_ptr<const task> find_task(std::string_view task_id) const;
    bool ready(const task& t) const { return std::chrono::steady_clock::now() >= t.ready_at; }

    // `expires_ms` (unix ms, 0 = none) is added as a signed CDN link would
    // carry its expiry.
    std::string stem_url(const task& t, const std::string& stem,
                         std::int64_t expires_ms = 0) const {
        std::string url = public_url_ + "/files/" + t.task_id + "/" + stem + ".wav" +
                          (t.faults.empty() ? "" : "?fault=" + t.faults);
        if (expires_ms > 0) {
            url += (t.faults.empty() ? "?expires=" : "&expires=") + std::to_string(expires_ms);
        }
        return url;
    }
    std::string stem_map(const task& t, std::int64_t expires_ms = 0) const;
    // The expiry for links signed at `signed_at`; 0 without a link TTL.
    std::int64_t link_expiry(std::chrono::system_clock::time_point signed_at) const;
    bool link_expired(const boost::urls::url_view& target) const;
    // How long a byId call must be told to wait, or nullopt when it may go
    // ahead (and is then counted in the window).
    std::optional<std::chrono::milliseconds> status_refusal();
    json::object webhook_body(const task& t) const;
    double audio_seconds() const;

    static net::awaitable<void> deliver(std::shared_ptr<simulator> self,
                                        std::shared_ptr<const task> t, client::http_url url);
    net::awaitable<delivery> post_once(const task& t, const client::http_url& url,
                                       const std::string& body, int attempt);

    simulator_options options_;
    std::shared_ptr<net::ssl::context> webhook_tls_;
    net::any_io_executor ex_;
    std::string public_url_;
    std::map<std::string, std::shared_ptr<task>, std::less<>> tasks_;
    std::map<std::string, std::string, std::less<>> task_by_conversion_;
    counters stats_;
    std::vector<delivered_webhook> deliveries_;
    std::deque<std::chrono::steady_clock::time_point> status_calls_; // within status_window
    std::set<std::string, std::less<>> faulted_files_; // "task/stem" whose one-shot fault is spent
};


reply simulator::route(const request& req) {
    const auto target = boost::urls::parse_origin_form(req.target());
    if (!target) {
        return api_error(bad_request("the request target is not a valid path"));
    }
    const std::string_view path = target->encoded_path();
    const auto only = [&](http::verb verb, const auto& serve) -> reply {
        if (req.method() != verb) {
            reply r = api_error(405, "METHOD_NOT_ALLOWED",
                                std::string(path) + " accepts only " +
                                    std::string(http::to_string(verb)));
            r.message.set(http::field::allow, http::to_string(verb));
            return r;
        }
        return serve();
    };
    if (path == "/api/public/v1/Extraction" || path == "/api/public/v2/Extraction") {
        const int version = path.starts_with("/api/public/v1/") ? 1 : 2;
        return only(http::verb::post, [&] { return submit(req, version); });
    }
    if (path == "/api/public/v1/byId") {
        return only(http::verb::get, [&] {
            ++stats_.status_requests;
            if (const auto wait = status_refusal()) {
                ++stats_.status_429;
                reply r = api_error(429, "TOO_MANY_REQUESTS",
                                    "Too many status requests (simulated limit)");
                const auto seconds = std::chrono::ceil<std::chrono::seconds>(*wait).count();
                r.message.set(http::field::retry_after,
                              std::to_string(std::max<std::int64_t>(seconds, 1)));
                return r;
            }
            return status(req, *target);
        });
    }
    if (path.starts_with("/files/")) {
        return only(http::verb::get, [&] {
            if (link_expired(*target)) {
                ++stats_.expired_links;
                return api_error(403, "FORBIDDEN", "the link has expired; fetch a fresh one");
            }
            return file(req, path);
        });
    }
    if (path == "/sim/stats") {
        return only(http::verb::get, [&] { return stats_reply(); });
    }
    if (path == "/sim/deliveries") {
        return only(http::verb::get, [&] {
            json::array out;
            for (const auto& d : deliveries_)
                out.push_back(json::object{{"url", d.url}, {"body", d.body}});
            return json_reply(200, out);
        });
    }
    if (path == "/healthz") {
        return only(http::verb::get, [] {
            return json_reply(200, json::object{{"status", "ok"}});
        });
    }
    return api_error(404, "RESOURCE_NOT_FOUND", "no such endpoint in the MusicGPT simulator");
}

std::optional<refusal> simulator::check_authorization(const request& req) const {
    const auto it = req.find(http::field::authorization);
    const std::string_view given = it == req.end() ? std::string_view{} : trim(it->value());
    if (given.empty() || (!options_.api_key.empty() && !same_secret(given, options_.api_key))) {
        return refusal{401, "UNAUTHORIZED_ACCESS",
                       "Missing or invalid API key in the Authorization header"};
    }
    return std::nullopt;
}

// Validates a submission in the order a real service would: who, what shape,
// what content, and only then the business errors (credits, rate).
boost::system::result<submission, refusal> simulator::accept(const request& req,
                                                             int api_version) const {
    if (auto denied = check_authorization(req)) {
        return std::move(*denied);
    }
    const auto form = parse_form_data(req[http::field::content_type], req.body());
    if (!form) {
        return bad_request(form.error().message);
    }
    const form_part* audio_url = find_part(*form, "audio_url");
    const form_part* audio_file = find_part(*form, "audio_file");
    const bool has_url = audio_url != nullptr && !audio_url->content.empty();
    const bool has_file = audio_file != nullptr && !audio_file->content.empty();
    if (!has_url && !has_file) {
        return refusal{422, "UNPROCESSABLE_CONTENT",
                       "Either audio_url or audio_file must be provided"};
    }
    auto stems = read_stems(find_part(*form, "stems"));
    if (!stems) {
        return stems.error();
    }
    if (auto bad = check_preprocessing(find_part(*form, "preprocessing_options"))) {
        return std::move(*bad);
    }
    std::optional<client::http_url> webhook;
    if (const form_part* field = find_part(*form, "webhook_url");
        field != nullptr && !trim(field->content).empty()) {
        auto url = client::parse_http_url(trim(field->content));
        if (!url) {
            return bad_request("webhook_url must be an absolute http(s) URL");
        }
        webhook = std::move(*url);
    }
    const std::string_view url_text = has_url ? audio_url->content : std::string_view{};
    if (auto forced = forced_error(url_text)) {
        return std::move(*forced);
    }
    const std::string_view faults = fault_text(url_text);
    if (!parse_faults(faults)) {
        return bad_request("unknown simulated fault in \"" + std::string(faults) +
                           "\"; known: " + std::string(known_faults));
    }

    auto t = std::make_shared<task>();
    t->api_version = api_version;
    t->task_id = new_uuid();
    t->conversion_id = new_uuid();
    t->stems = std::move(*stems);
    t->audio_path = std::string(url_text);
    t->fail = url_text.find("sim-fail") != std::string_view::npos;
    t->faults = std::string(faults);
    t->created_at = std::chrono::system_clock::now();
    t->finished_at = t->created_at + options_.webhook_delay;
    t->ready_at = std::chrono::steady_clock::now() + options_.webhook_delay;
    return submission{std::move(t), std::move(webhook), has_file ? audio_file->content.size() : 0};
}

reply simulator::submit(const request& req, int api_version) {
    auto accepted = accept(req, api_version);
    if (!accepted) {
        ++stats_.rejected_submissions;
        reply r = api_error(accepted.error());
        if (accepted.error().status == 429) {
            r.message.set(http::field::retry_after, "1");
        }
        return r;
    }
    const std::shared_ptr<task> t = accepted->accepted;
    ++stats_.submissions;
    stats_.uploaded_bytes += accepted->uploaded_bytes;
    tasks_.emplace(t->task_id, t);
    task_by_conversion_.emplace(t->conversion_id, t->task_id);

    std::string webhook_note = "no webhook";
    if (accepted->webhook && options_.no_webhooks) {
        webhook_note = "webhook withheld (--no-webhooks)";
    } else if (const auto& url = accepted->webhook) {
        webhook_note = "webhook " + url->redacted();
        net::co_spawn(ex_, deliver(shared_from_this(), t, *url),
                      [id = t->task_id](std::exception_ptr e) {
                          log_exception("webhook for task " + id, e);
                      });
    }
    note(log_level::info, "task " + t->task_id + " accepted (v" + std::to_string(api_version) +
                              ", stems " + join(t->stems) + (t->fail ? ", will fail" : "") + ", " +
                              webhook_note + ")");

    const auto eta = std::max<std::int64_t>(
        1, std::chrono::ceil<std::chrono::seconds>(options_.webhook_delay).count());
    json::object body{{"success", true},
                      {"task_id", t->task_id},
                      {"conversion_id", t->conversion_id},
                      {"eta", eta},
                      {"credit_estimate", 1.25 * static_cast<double>(t->stems.size())}};
    if (api_version == 2) {
        body["message"] = "Message published to queue";
        body["status"] = "IN_QUEUE";
    }
    return json_reply(200, body);
}

std::shared_ptr<const task> simulator::find_task(std::string_view task_id) const {
    const auto it = tasks_.find(task_id);
    return it == tasks_.end() ? nullptr : it->second;
}

std::string simulator::stem_map(const task& t, std::int64_t expires_ms) const {
    json::object links;
    for (const auto& stem : t.stems) {
        links[stem] = stem_url(t, stem, expires_ms);
    }
    return json::serialize(links);
}

std::int64_t simulator::link_expiry(std::chrono::system_clock::time_point signed_at) const {
    if (options_.link_ttl.count() <= 0) {
        return 0;
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               (signed_at + options_.link_ttl).time_since_epoch())
        .count();
}

bool simulator::link_expired(const boost::urls::url_view& target) const {
    if (options_.link_ttl.count() <= 0) {
        return false;
    }
    for (const auto& param : target.params()) {
        if (param.key == "expires") {
            const auto expires = parse_decimal(param.value);
            const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
            return !expires || static_cast<std::int64_t>(*expires) < now;
        }
    }
    return true; // an unsigned link is no better than an expired one
}

std::optional<std::chrono::milliseconds> simulator::status_refusal() {
    if (options_.status_limit == 0) {
        return std::nullopt;
    }
    const auto now = std::chrono::steady_clock::now();
    while (!status_calls_.empty() && status_calls_.front() + options_.status_window <= now) {
        status_calls_.pop_front();
    }
    if (status_calls_.size() >= options_.status_limit) {
        return std::chrono::ceil<std::chrono::milliseconds>(status_calls_.front() +
                                                            options_.status_window - now);
    }
    status_calls_.push_back(now);
    return std::nullopt;
}

double simulator::audio_seconds() const {
    const std::uint64_t data =
        options_.stem_bytes > wav_header_bytes ? options_.stem_bytes - wav_header_bytes : 0;
    const double seconds = static_cast<double>(data) / (sample_rate * bytes_per_sample);
    return std::round(seconds * 100) / 100;
}

json::object simulator::webhook_body(const task& t) const {
    if (t.fail) {
        return {{"success", false},
                {"task_id", t.task_id},
                {"conversion_id", t.conversion_id},
                {"message", failure_message}};
    }
    if (t.api_version == 1) {
        // The seed shape: one top-level key per stem.
        json::object body{{"success", true},
                          {"task_id", t.task_id},
                          {"conversion_id", t.conversion_id},
                          {"audio_path", t.audio_path}};
        for (const auto& stem : t.stems) {
            body[stem] = stem_url(t, stem, link_expiry(t.created_at));
        }
        body["conversion_cost"] = 5.0;
        body["conversion_duration"] = 120.5;
        return body;
    }
    const std::string links = stem_map(t, link_expiry(t.created_at));
    return {{"success", true},
            {"conversion_type", "Extraction"},
            {"task_id", t.task_id},
            {"conversion_id", t.conversion_id},
            {"audio_url", links},
            {"audio_url_wav", links},
            {"conversion_cost", t.cost()},
            {"conversion_duration", audio_seconds()},
            {"title", "Extraction"}};
}

reply simulator::status(const request& req, const boost::urls::url_view& target) const {
    if (auto denied = check_authorization(req)) {
        return api_error(*denied);
    }
    std::string type;
    std::string task_id;
    std::string conversion_id;
    for (const auto& param : target.params()) {
        if (param.key == "conversionType") {
            type = param.value;
        } else if (param.key == "task_id") {
            task_id = param.value;
        } else if (param.key == "conversion_id") {
            conversion_id = param.value;
        }
    }
    if (type.empty()) {
        return api_error(bad_request("conversionType is required, e.g. conversionType=EXTRACTION"));
    }
    if (!iequals(type, "EXTRACTION")) {
        return api_error(bad_request("the simulator only has conversionType=EXTRACTION"));
    }
    if (task_id.empty() == conversion_id.empty()) {
        return api_error(bad_request("give exactly one of task_id and conversion_id"));
    }
    if (task_id.empty()) {
        const auto it = task_by_conversion_.find(conversion_id);
        task_id = it == task_by_conversion_.end() ? std::string{} : it->second;
    }
    const auto t = find_task(task_id);
    if (!t) {
        return api_error(404, "RESOURCE_NOT_FOUND", "no conversion with that id");
    }

    const bool done = ready(*t);
    json::object record{{"task_id", t->task_id},
                        {"conversion_id", t->conversion_id},
                        {"conversion_type", "EXTRACTION"},
                        {"conversion_cost", t->cost()},
                        {"createdAt", iso_time(t->created_at)},
                        {"updatedAt", iso_time(done ? t->finished_at : t->created_at)}};
    if (!done) {
        record["status"] = "IN_QUEUE";
        record["status_msg"] = "Conversion in queue";
    } else if (t->fail) {
        record["status"] = "FAILED";
        record["status_msg"] = failure_message;
    } else {
        const std::string links = stem_map(*t, link_expiry(std::chrono::system_clock::now()));
        record["status"] = "COMPLETED";
        record["status_msg"] = "Conversion successful";
        record["audio_url"] = links;
        record["audio_url_wav"] = links;
        record["conversion_duration"] = audio_seconds();
    }
    return json_reply(200, json::object{{"success", true}, {"conversion", std::move(record)}});
}

reply simulator::stats_reply() const {
    json::object faults;
    for (const auto& [name, count] : stats_.faults) {
        faults[name] = count;
    }
    return json_reply(200, json::object{{"submissions", stats_.submissions},
                                        {"rejected_submissions", stats_.rejected_submissions},
                                        {"webhooks_delivered", stats_.webhooks_delivered},
                                        {"webhook_attempts", stats_.webhook_attempts},
                                        {"webhook_failures", stats_.webhook_failures},
                                        {"file_requests", stats_.file_requests},
                                        {"range_requests", stats_.range_requests},
                                        {"bytes_served", stats_.bytes_served},
                                        {"uploaded_bytes", stats_.uploaded_bytes},
                                        {"status_requests", stats_.status_requests},
                                        {"status_429", stats_.status_429},
                                        {"expired_links", stats_.expired_links},
                                        {"redirects_served", stats_.redirects_served},
                                        {"ranges_ignored", stats_.ranges_ignored},
                                        {"faults", faults},
                                        {"tasks", tasks_.size()}});
}

// ---------------------------------------------------------------------------
// Stem files.

struct body_stream {
    std::shared_ptr<simulator> owner; // for the byte counter
    std::string task_id;
    std::string stem;
    std::uint64_t total = 0;
    std::uint64_t next = 0;
    std::uint64_t end = 0; // exclusive
    std::uint64_t rate = 0;
    std::uint64_t sent = 0;
    std::optional<std::chrono::steady_clock::time_point> started;
    // A fault: the body breaks off at this offset; after `silence` the
    // connection is dropped.
    std::optional<std::uint64_t> break_at;
    std::chrono::seconds silence{0};
};

net::awaitable<void> sleep_until(std::chrono::steady_clock::time_point when) {
    net::steady_timer timer(co_await net::this_coro::executor, when);
    co_await timer.async_wait(net::use_awaitable);
}

// The next chunk of a file body; "" at the end. With a rate, each chunk is
// held back until the average since the first chunk is down to that rate.
net::awaitable<std::string> next_chunk(std::shared_ptr<body_stream> s) {
    if (s->break_at && s->next >= *s->break_at) {
        if (s->silence.count() > 0) {
            co_await sleep_until(std::chrono::steady_clock::now() + s->silence);
        }
        throw dropped_connection();
    }
    if (s->next >= s->end) {
        co_return std::string{};
    }
    if (!s->started) {
        s->started = std::chrono::steady_clock::now();
    }
    const std::uint64_t stop = s->break_at ? std::min(s->end, *s->break_at) : s->end;
    const std::uint64_t n = std::min<std::uint64_t>(chunk_bytes, stop - s->next);
    std::string chunk = stem_audio_range(s->task_id, s->stem, s->total, s->next, n);
    s->next += n;
    s->sent += n;
    s->owner->stats().bytes_served += n;
    if (s->rate > 0) {
        const std::chrono::duration<double> due(static_cast<double>(s->sent) /
                                                static_cast<double>(s->rate));
        co_await sleep_until(*s->started +
                             std::chrono::duration_cast<std::chrono::nanoseconds>(due));
    }
    co_return chunk;
}

// The link's own fault list and how far along a redirect chain it is.
struct link_faults {
    std::optional<fault_plan> plan; // nullopt: the fault parameter names no known fault
    std::uint64_t hop = 0;
};

link_faults read_link_faults(const boost::urls::url_view& link) {
    link_faults out{fault_plan{}, 0};
    for (const auto& param : link.params()) {
        if (param.key == "fault") {
            out.plan = parse_faults(param.value);
        } else if (param.key == "hop") {
            out.hop = parse_decimal(param.value).value_or(0);
        }
    }
    return out;
}

// Where the current hop of a redirect fault sends the client: the same
// link one hop further, or, for a loop, back to where the chain began.
reply simulator::redirect(const boost::urls::url_view& link, std::uint64_t hop,
                          const fault_plan& plan) {
    ++stats_.redirects_served;
    if (hop == 0) {
        count_fault(plan.redirect_loop ? "redirect-loop"
                                       : "redirect-" + std::to_string(plan.redirects));
    }
    boost::urls::url next(link);
    if (plan.redirect_loop && hop > 0) {
        next.params().erase("hop");
    } else {
        next.params().set("hop", std::to_string(hop + 1));
    }
    reply r;
    r.message.result(http::status::found);
    r.message.set(http::field::location, public_url_ + std::string(next.encoded_target()));
    r.message.prepare_payload();
    return r;
}

reply simulator::file(const request& req, std::string_view path) {
    ++stats_.file_requests;
    const std::string_view rest = path.substr(std::string_view("/files/").size());
    const auto slash = rest.find('/');
    const std::string_view task_id = rest.substr(0, slash);
    const std::string_view name =
        slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    const std::string_view stem =
        name.substr(0, name.size() - std::min<std::size_t>(4, name.size()));
    const auto t = find_task(task_id);
    // Like the real CDN, a stem exists only once its task has completed.
    if (!name.ends_with(".wav") || !t || t->fail || !ready(*t) ||
        std::find(t->stems.begin(), t->stems.end(), stem) == t->stems.end()) {
        return api_error(404, "RESOURCE_NOT_FOUND", "no such stem file");
    }

    // route() has parsed the same target already.
    const auto link = boost::urls::parse_origin_form(req.target());
    const link_faults faults = read_link_faults(*link);
    if (!faults.plan) {
        return api_error(bad_request("the fault parameter names no known fault; known: " +
                                     std::string(known_faults)));
    }
    const fault_plan& plan = *faults.plan;
    if (plan.redirect_loop || faults.hop < plan.redirects) {
        return redirect(*link, faults.hop, plan);
    }
    const bool first_request =
        plan.one_shot() && faulted_files_.insert(t->task_id + "/" + std::string(stem)).second;
    if (first_request && plan.unavailable_once) {
        count_fault("503-once");
        reply r = api_error(503, "SERVICE_UNAVAILABLE", "simulated outage (fault 503-once)");
        r.message.set(http::field::retry_after, "1");
        return r;
    }

    const std::uint64_t size = options_.stem_bytes;
    const std::string etag =
        "\"" + t->task_id + "-" + std::string(stem) + "-" + std::to_string(size) + "\"";
    byte_range range;
    if (const auto header = req.find(http::field::range); header != req.end()) {
        ++stats_.range_requests;
        const auto if_range = req.find(http::field::if_range);
        if (plan.no_range) {
            ++stats_.ranges_ignored;
            count_fault("no-range");
        } else if (if_range == req.end() || if_range->value() == etag) {
            range = interpret_range(header->value(), size);
        }
    }
    if (range.what == byte_range::kind::unsatisfiable) {
        reply r =
            api_error(416, "RANGE_NOT_SATISFIABLE", "the range starts beyond the end of the file");
        r.message.set(http::field::content_range, "bytes */" + std::to_string(size));
        return r;
    }
    if (range.what == byte_range::kind::whole) {
        range.first = 0;
        range.last = size == 0 ? 0 : size - 1;
    }
    const std::uint64_t length = size == 0 ? 0 : range.last - range.first + 1;

    reply r;
    r.message.result(range.what == byte_range::kind::part ? http::status::partial_content
                                                          : http::status::ok);
    r.message.set(http::field::content_type, "audio/wav");
    r.message.set(http::field::accept_ranges, plan.no_range ? "none" : "bytes");
    r.message.set(http::field::etag, etag);
    if (range.what == byte_range::kind::part) {
        r.message.set(http::field::content_range, "bytes " + std::to_string(range.first) + "-" +
                                                      std::to_string(range.last) + "/" +
                                                      std::to_string(size));
    }
    r.message.content_length(length);
    auto s = std::make_shared<body_stream>();
    s->owner = shared_from_this();
    s->task_id = t->task_id;
    s->stem = std::string(stem);
    s->total = size;
    s->next = range.first;
    s->end = range.first + length;
    s->rate = options_.rate;
    if (first_request) {
        // One body fault per request; the Content-Length above still
        // announces the whole body, which is the point.
        if (plan.short_body) {
            count_fault("short");
            s->break_at = s->end - std::min<std::uint64_t>(1, length);
        } else if (plan.close_mid) {
            count_fault("close-mid");
            s->break_at = s->next + length / 2;
        } else if (plan.stall.count() > 0) {
            count_fault("stall");
            s->break_at = s->next + length / 2;
            s->silence = plan.stall;
        }
    }
    r.stream = [s] {
        return next_chunk(s);
    };
    return r;
}

// ---------------------------------------------------------------------------
// Webhook delivery.

net::awaitable<void> simulator::deliver(std::shared_ptr<simulator> self,
                                        std::shared_ptr<const task> t, client::http_url url) {
    net::steady_timer timer(co_await net::this_coro::executor, t->ready_at);
    co_await timer.async_wait(net::use_awaitable);
    const std::string body = json::serialize(self->webhook_body(*t));
    auto backoff = first_backoff;
    for (int attempt = 1; attempt <= webhook_attempts; ++attempt) {
        const delivery outcome = co_await self->post_once(*t, url, body, attempt);
        if (outcome == delivery::delivered) {
            ++self->stats_.webhooks_delivered;
            self->deliveries_.push_back({url.to_string(), body});
            co_return;
        }
        if (outcome == delivery::give_up || attempt == webhook_attempts) {
            break;
        }
        timer.expires_after(backoff);
        co_await timer.async_wait(net::use_awaitable);
        backoff *= 2;
    }
    ++self->stats_.webhook_failures;
    note(log_level::warning,
         "webhook for task " + t->task_id + " to " + url.redacted() + ": giving up");
}

net::awaitable<delivery> simulator::post_once(const task& t, const client::http_url& url,
                                              const std::string& body, int attempt) {
    request req{http::verb::post, url.target, 11};
    req.set(http::field::host, url.host_header());
    req.set(http::field::content_type, "application/json");
    req.set(http::field::user_agent, "stemd-simulate/" STEMD_VERSION);
    req.body() = body;
    req.prepare_payload();

    client::connect_options connect;
    connect.connect_timeout = std::chrono::seconds(5);
    connect.io_timeout = std::chrono::seconds(10);
    ++stats_.webhook_attempts;
    const auto answer =
        co_await client::exchange(url, std::move(req), connect, *webhook_tls_, 64 * 1024);

    const std::string what = "webhook for task " + t.task_id + " attempt " +
                             std::to_string(attempt) + "/" + std::to_string(webhook_attempts) +
                             " to " + url.redacted();
    if (!answer) {
        note(log_level::warning, what + ": " + answer.error().message());
        co_return delivery::retry;
    }
    const unsigned code = answer->result_int();
    const bool ok = code >= 200 && code < 300;
    note(ok ? log_level::info : log_level::warning, what + ": HTTP " + std::to_string(code));
    if (ok) {
        co_return delivery::delivered;
    }
    co_return code >= 500 ? delivery::retry : delivery::give_up;
}

// ---------------------------------------------------------------------------
// Start-up and shutdown.

struct listen_address {
    std::string host;
    std::uint16_t port = 0;
};

// "host:port" or "[v6]:port"; unlike the daemon's settings, port 0 (any free
// port) is allowed, which tests use.
std::optional<listen_address> split_listen(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
        return std::nullopt;
    }
    std::string_view host = text.substr(0, colon);
    if (host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    } else if (host.find(':') != std::string_view::npos) {
        return std::nullopt;
    }
    const auto port = parse_decimal(text.substr(colon + 1));
    if (host.empty() || !port || *port > 65535) {
        return std::nullopt;
    }
    return listen_address{std::string(host), static_cast<std::uint16_t>(*port)};
}

std::string url_host(std::string_view host) {
    return host.find(':') != std::string_view::npos ? "[" + std::string(host) + "]"
                                                    : std::string(host);
}

// Links must name an address clients can connect to, not "any address".
std::string link_host(std::string_view host) {
    if (host == "0.0.0.0") {
        return "127.0.0.1";
    }
    if (host == "::") {
        return "[::1]";
    }
    return url_host(host);
}

// Throws std::runtime_error naming the file that cannot be used.
std::shared_ptr<net::ssl::context> make_server_tls(const simulator_options& options) {
    auto ctx = std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
    ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                     net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                     net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
    boost::system::error_code ec;
    ctx->use_certificate_chain_file(options.tls_cert, ec);
    if (ec) {
        throw std::runtime_error("cannot load the TLS certificate chain " + options.tls_cert +
                                 ": " + ec.message() + "; give a readable PEM file");
    }
    ctx->use_private_key_file(options.tls_key, net::ssl::context::pem, ec);
    if (ec) {
        throw std::runtime_error("cannot load the TLS private key " + options.tls_key + ": " +
                                 ec.message() +
                                 "; give a readable PEM key matching the certificate");
    }
    return ctx;
}

net::awaitable<void> stop_on_signal(net::signal_set& signals, http_server& server,
                                    net::io_context& ioc) {
    const int signal = co_await signals.async_wait(net::use_awaitable);
    note(log_level::info, "stopping (signal " + std::to_string(signal) + ")");
    server.stop();
    // Answers under way get a moment to finish; webhooks still waiting for
    // their delay are dropped with everything else when the loop stops.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    net::steady_timer timer(ioc);
    while (server.open_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
        timer.expires_after(std::chrono::milliseconds(50));
        co_await timer.async_wait(net::use_awaitable);
    }
    ioc.stop();
}

} // namespace

int run_simulator(const simulator_options& options) {
    const auto listen = split_listen(options.listen);
    if (!listen) {
        note(log_level::error, "the listen address \"" + options.listen +
                                   "\" is not host:port; write e.g. 127.0.0.1:8090 or [::1]:8090");
        return 1;
    }
    if (options.tls_cert.empty() != options.tls_key.empty()) {
        note(log_level::error, "HTTPS needs both a certificate and a key; give both or neither");
        return 1;
    }
    std::shared_ptr<net::ssl::context> server_tls;
    std::shared_ptr<net::ssl::context> webhook_tls;
    try {
        if (!options.tls_cert.empty()) {
            server_tls = make_server_tls(options);
        }
        webhook_tls = client::make_tls_client_context(options.webhook_ca_file);
    } catch (const std::exception& e) {
        note(log_level::error, e.what());
        return 1;
    }

    net::io_context ioc(1);
    auto sim = std::make_shared<simulator>(options, webhook_tls, ioc.get_executor());
    server_limits limits;
    limits.body_limit = 100 * 1024 * 1024; // uploads
    limits.request_timeout = std::chrono::seconds(120);
    std::optional<http_server> server;
    try {
        server.emplace(
            ioc.get_executor(), listen->host, listen->port,
            [sim](request& req, const peer_info&) { return simulator::handle(sim, req); }, limits,
            server_tls, "simulate");
    } catch (const std::system_error& e) {
        note(log_level::error, std::string("cannot listen: ") + e.what());
        return 1;
    }

    const std::string scheme = server_tls ? "https://" : "http://";
    const std::string port = std::to_string(server->local_endpoint().port());
    const std::string listening = scheme + url_host(listen->host) + ":" + port;
    sim->set_public_url(options.public_url.empty() ? scheme + link_host(listen->host) + ":" + port
                                                   : options.public_url);
    server->start();
    note(log_level::info,
         "listening on " + listening +
             (sim->public_url() == listening ? "" : " (links use " + sim->public_url() + ")"));

    net::signal_set signals(ioc, SIGINT, SIGTERM);
    net::co_spawn(ioc, stop_on_signal(signals, *server, ioc),
                  [](std::exception_ptr e) { log_exception("shutdown", e); });
    ioc.run();
    return 0;
}

} // namespace stemd::server
