// Skipping a test case honestly under Catch2 2.13 (which cannot skip): SPARSEDENSE_SKIP records the skip, prints why
// and leaves the test case; the shared runner (tests/catch_main.cpp) then exits with kSkipExitCode, which ctest
// counts as a skip, not a pass.
#pragma once

#include <atomic>

namespace sparsedense::testing {

/// Exit code of a test process in which a test case skipped (ctest's SKIP_RETURN_CODE; 77 as in Automake).
inline constexpr int kSkipExitCode = 77;

inline std::atomic<int>& skipped_test_counter() {
    static std::atomic<int> count{0};
    return count;
}

inline int skipped_test_count() { return skipped_test_counter().load(); }

}  // namespace sparsedense::testing

/// Leaves the current test case as skipped, with a reason (a stream expression, as for Catch's WARN).
#define SPARSEDENSE_SKIP(reason)                                      \
    do {                                                              \
        ::sparsedense::testing::skipped_test_counter().fetch_add(1);  \
        WARN("SKIPPED: " << reason);                                  \
        return;                                                       \
    } while (false)
