#include "common/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace stemd::metrics {

labelled_counter::labelled_counter(std::string label, const std::vector<std::string_view>& values)
    : label_(std::move(label)), values_(values.begin(), values.end()),
      counts_(std::make_unique<counter[]>(values.size())) {}

std::size_t labelled_counter::index_of(std::string_view value) const {
    const auto found = std::find(values_.begin(), values_.end(), value);
    if (found == values_.end())
        throw std::invalid_argument("metric label " + label_ + " has no value \"" +
                                    std::string(value) + "\"");
    return static_cast<std::size_t>(found - values_.begin());
}

void labelled_counter::add(std::string_view value, std::uint64_t n) {
    counts_[index_of(value)].add(n);
}

std::uint64_t labelled_counter::value(std::string_view value) const {
    return counts_[index_of(value)].value();
}

histogram::histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), buckets_(std::make_unique<counter[]>(bounds_.size() + 1)) {
    if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
        std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end())
        throw std::invalid_argument("histogram bounds must be strictly ascending");
}

void histogram::observe(double v) noexcept {
    // Buckets are "less than or equal", so a value on a bound counts in it.
    const auto at = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
    buckets_[static_cast<std::size_t>(at)].add();
    sum_.fetch_add(v, std::memory_order_relaxed);
}

histogram::reading histogram::read() const {
    reading r{.upper_bounds = bounds_, .cumulative = {}, .sum = sum_.load()};
    std::uint64_t running = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        running += buckets_[i].value();
        r.cumulative.push_back(running);
    }
    return r;
}

family counter_family(std::string name, std::string help, const counter& c) {
    return {std::move(name),
            std::move(help),
            kind::counter,
            {{"", {}, static_cast<double>(c.value())}}};
}

family counter_family(std::string name, std::string help, const labelled_counter& c) {
    family f{std::move(name), std::move(help), kind::counter, {}};
    for (const auto& v : c.values())
        f.samples.push_back({"", {{c.label(), v}}, static_cast<double>(c.value(v))});
    return f;
}

family histogram_family(std::string name, std::string help, const histogram& h) {
    const auto r = h.read();
    family f{std::move(name), std::move(help), kind::histogram, {}};
    for (std::size_t i = 0; i < r.cumulative.size(); ++i) {
        const double bound = i < r.upper_bounds.size() ? r.upper_bounds[i] : INFINITY;
        f.samples.push_back(
            {"_bucket", {{"le", format_value(bound)}}, static_cast<double>(r.cumulative[i])});
    }
    f.samples.push_back({"_sum", {}, r.sum});
    f.samples.push_back({"_count", {}, static_cast<double>(r.count())});
    return f;
}

family gauge_family(std::string name, std::string help, double value, std::vector<label> labels) {
    return {std::move(name), std::move(help), kind::gauge, {{"", std::move(labels), value}}};
}

namespace {

std::string_view type_name(kind k) {
    switch (k) {
    case kind::counter:
        return "counter";
    case kind::histogram:
        return "histogram";
    case kind::gauge:
        break;
    }
    return "gauge";
}

std::string escape(std::string_view s, bool quote) {
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (c == '"' && quote)
            out += "\\\"";
        else
            out += c;
    }
    return out;
}

void render_sample(std::string& out, const std::string& name, const sample& s) {
    out += name;
    out += s.suffix;
    if (!s.labels.empty()) {
        out += '{';
        for (std::size_t i = 0; i < s.labels.size(); ++i) {
            if (i > 0)
                out += ',';
            out += s.labels[i].name + "=\"" + escape_label_value(s.labels[i].value) + '"';
        }
        out += '}';
    }
    out += ' ';
    out += format_value(s.value);
    out += '\n';
}

} // namespace

std::string escape_label_value(std::string_view s) {
    return escape(s, true);
}

std::string escape_help(std::string_view s) {
    return escape(s, false);
}

std::string format_value(double v) {
    if (std::isnan(v))
        return "NaN";
    if (std::isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    // Below 2^53 every integer is exact: print it as one.
    if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0)
        return std::to_string(static_cast<std::int64_t>(v));
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, ec == std::errc() ? end : buf);
}

std::string render(const std::vector<family>& families) {
    std::string out;
    for (const auto& f : families) {
        out += "# HELP " + f.name + ' ' + escape_help(f.help) + '\n';
        out += "# TYPE " + f.name + ' ' + std::string(type_name(f.type)) + '\n';
        for (const auto& s : f.samples)
            render_sample(out, f.name, s);
    }
    return out;
}

} // namespace stemd::metrics
