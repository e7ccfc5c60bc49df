// The test runners' entry point: doctest's own, plus one rule. CTest runs
// each case as `runner --test-case=NAME`; a NAME that ctest split (at ';')
// or that no longer matches selects nothing, and doctest would call that
// run a success. Here a filtered run that selected no case fails instead.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

namespace {

unsigned selected_cases = 0;

class selection_counter : public doctest::IReporter {
public:
    explicit selection_counter(const doctest::ContextOptions&) {}
    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_run_end(const doctest::TestRunStats& s) override {
        selected_cases = s.numTestCasesPassingFilters;
    }
    void test_case_start(const doctest::TestCaseData&) override {}
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_end(const doctest::CurrentTestCaseStats&) override {}
    void test_case_exception(const doctest::TestCaseException&) override {}
    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData&) override {}
    void log_message(const doctest::MessageData&) override {}
    void test_case_skipped(const doctest::TestCaseData&) override {}
};

} // namespace

REGISTER_LISTENER("selection_counter", 1, selection_counter);

int main(int argc, char** argv) {
    doctest::Context context(argc, argv);
    const int rc = context.run();
    if (context.shouldExit() || rc != 0)
        return rc;
    if (selected_cases == 0) {
        std::fprintf(stderr,
                     "%s: no test case matched the filter; a test name must not contain "
                     "';' (ctest splits it there)\n",
                     argc > 0 ? argv[0] : "tests");
        return 1;
    }
    return 0;
}
