#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine: installs dependencies, builds the tests in Release and runs them
# with ctest, then builds them again with AddressSanitizer + UndefinedBehaviorSanitizer and runs them once more.
# Tests that need ../shared/data skip with a message when it is absent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=${JOBS:-$(nproc)}
bash scripts/install_dependencies.sh

echo "== Release build and tests"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DSPARSEDENSE_BUILD_BENCHMARKS=ON -DSPARSEDENSE_BUILD_EXAMPLES=ON >/dev/null
cmake --build build/release -j "$jobs"
ctest --test-dir build/release -j "$jobs" --output-on-failure --timeout 1200

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build and tests"
cmake -S . -B build/sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPARSEDENSE_SANITIZE=ON -DSPARSEDENSE_BUILD_BENCHMARKS=OFF \
      -DSPARSEDENSE_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build/sanitize -j "$jobs"
ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/sanitize -j "$jobs" --output-on-failure --timeout 2400
