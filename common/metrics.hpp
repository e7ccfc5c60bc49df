#pragma once

// Counters, labelled counters and histograms for GET /metrics, and the
// Prometheus text exposition format (version 0.0.4) they are rendered in.
// Every event is counted, and every scrape rendered, on the io thread (a
// download resumes there once its transfer ends); increments are lock-free
// atomics all the same, so that a count stays exact should an event ever
// be counted from another thread. Nothing here knows what is counted; the
// daemon's own instruments are in jobs/metrics.hpp.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace stemd::metrics {

class counter {
public:
    void add(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

// One counter per value of one label. The values are fixed up front, so
// every series is exposed from the start (a rate over a series that appears
// only with its first event misses that event).
class labelled_counter {
public:
    labelled_counter(std::string label, const std::vector<std::string_view>& values);

    // Throws std::invalid_argument for a value not declared (a programming
    // error: the set of values is part of the metric's contract).
    void add(std::string_view value, std::uint64_t n = 1);
    std::uint64_t value(std::string_view value) const;

    const std::string& label() const noexcept { return label_; }
    const std::vector<std::string>& values() const noexcept { return values_; }

private:
    std::size_t index_of(std::string_view value) const;

    std::string label_;
    std::vector<std::string> values_;
    std::unique_ptr<counter[]> counts_;
};

// A value set from time to time (a timestamp, a level).
class gauge {
public:
    void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0};
};

// Observations counted into buckets with the given upper bounds (ascending;
// +Inf is implied), with their sum.
class histogram {
public:
    explicit histogram(std::vector<double> upper_bounds);

    void observe(double v) noexcept;

    struct reading {
        std::vector<double> upper_bounds;
        std::vector<std::uint64_t> cumulative; // one per bound, then +Inf
        double sum = 0;
        std::uint64_t count() const { return cumulative.empty() ? 0 : cumulative.back(); }
    };
    // The +Inf bucket and the count are the same number by construction, as
    // the format demands, even while observations race the read.
    reading read() const;

private:
    std::vector<double> bounds_;
    std::unique_ptr<counter[]> buckets_; // not cumulative; the last is +Inf
    std::atomic<double> sum_{0};
};

// --- The text format, as pure functions ----------------------------------

struct label {
    std::string name;
    std::string value;
};

struct sample {
    std::string suffix; // "", "_bucket", "_sum", "_count"
    std::vector<label> labels;
    double value = 0;
};

enum class kind { counter, gauge, histogram };

struct family {
    std::string name; // for a counter, with its _total
    std::string help;
    kind type = kind::gauge;
    std::vector<sample> samples;
};

family counter_family(std::string name, std::string help, const counter& c);
family counter_family(std::string name, std::string help, const labelled_counter& c);
family histogram_family(std::string name, std::string help, const histogram& h);
family gauge_family(std::string name, std::string help, double value,
                    std::vector<label> labels = {});

// "# HELP", "# TYPE" and the samples of each family, in order; label values
// and help texts escaped as the format says (backslash, and in label values
// the double quote, and line feeds).
std::string render(const std::vector<family>& families);

// The Content-Type of render()'s text.
inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

std::string escape_label_value(std::string_view s);
std::string escape_help(std::string_view s);
// Integral values without a fraction or exponent, others as the shortest
// text that reads back the same; +Inf, -Inf and NaN as the format spells them.
std::string format_value(double v);

} // namespace stemd::metrics
