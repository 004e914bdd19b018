#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine: installs dependencies, then runs every stage in its own build
# folder with every option given explicitly (so nothing configured before, e.g. by scripts/demo.sh, changes what
# runs):
#   1. Release: unit tests, examples, the install / find_package check and the README's code blocks;
#   2. AddressSanitizer + UndefinedBehaviorSanitizer: the unit tests again;
#   3. ThreadSanitizer (gcc's -fsanitize=thread): the unit tests again, with the concurrency stress tests
#      (tests/concurrency); any report fails the test (no suppressions). Built without OpenMP: the library's own
#      parallelism is std::thread, and OpenMP only parallelizes Eigen's matrix products, whose libgomp barriers
#      TSan cannot see (it then reports Eigen's blocking-size cache as a race);
#   4. Fuzz smoke: every libFuzzer target of fuzz/ (clang-14, ASan + UBSan; clang-14 and libclang-rt-14-dev are
#      installed for this stage only) replays its committed corpus and crash regressions, then mutates them for a
#      fixed budget (SPARSEDENSE_FUZZ_SMOKE_SECONDS, 10 s) under a low RSS limit: one ctest entry per target;
#   5. Python: a fresh virtual environment under build/test-python, the pinned test requirements
#      (python/requirements-test.txt), `pip install .` (scikit-build-core + nanobind, a fresh CMake build folder),
#      then the pytest suite of python/tests with a JUnit report; check_test_inventory.py --pytest proves that every
#      collected test is exactly one report entry. The SciFact test compares with the Release stage's hybrid_eval.
# Before each stage's ctest, scripts/check_test_inventory.py proves that the ctest entries are exactly the Catch2
# test cases (and, in the fuzz stage, the fuzz targets); ctest runs with --no-tests=error. Tests that need ../shared/data are reported as skipped when it is
# absent. The last line sums every stage: "N passed, F failed, M skipped"; the exit code is non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=${JOBS:-$(nproc)}
bash scripts/install_dependencies.sh
start=$SECONDS
reports=()
status=0

# stage NAME BUILD_DIR CTEST_TIMEOUT ENV... -- CMAKE_OPTIONS...
stage() {
  local name=$1 dir=$2 timeout=$3
  shift 3
  local envs=()
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  echo "== $name: configure and build ($dir)"
  cmake -S . -B "$dir" -DSPARSEDENSE_BUILD_TESTS=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  echo "== $name: test inventory"
  python3 scripts/check_test_inventory.py "$dir" || status=1
  echo "== $name: ctest"
  rm -f "$dir/ctest-report.xml"
  env "${envs[@]}" ctest --test-dir "$dir" -j "$jobs" --no-tests=error --output-on-failure --timeout "$timeout" \
      --output-junit ctest-report.xml || status=1
  reports+=("$name=$dir/ctest-report.xml")
  echo "== $name: done at $((SECONDS - start)) s"
}

stage Release build/test-release 1200 -- \
  -DCMAKE_BUILD_TYPE=Release -DSPARSEDENSE_SANITIZE=OFF -DSPARSEDENSE_SANITIZE_THREAD=OFF -DSPARSEDENSE_BUILD_BENCHMARKS=ON -DSPARSEDENSE_BUILD_EXAMPLES=ON
stage "ASan+UBSan" build/test-sanitize 2400 ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 -- \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" -DSPARSEDENSE_SANITIZE=ON -DSPARSEDENSE_SANITIZE_THREAD=OFF -DSPARSEDENSE_BUILD_BENCHMARKS=OFF -DSPARSEDENSE_BUILD_EXAMPLES=OFF

stage "TSan" build/test-tsan 2400 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 -- \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" -DSPARSEDENSE_SANITIZE=OFF -DSPARSEDENSE_SANITIZE_THREAD=ON -DSPARSEDENSE_USE_OPENMP=OFF -DSPARSEDENSE_BUILD_BENCHMARKS=OFF -DSPARSEDENSE_BUILD_EXAMPLES=OFF
bash scripts/install_dependencies.sh clang-14 libclang-rt-14-dev
stage "Fuzz smoke" build/test-fuzz 600 -- \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" -DSPARSEDENSE_BUILD_TESTS=OFF -DSPARSEDENSE_BUILD_FUZZERS=ON \
  -DSPARSEDENSE_SANITIZE=OFF -DSPARSEDENSE_SANITIZE_THREAD=OFF -DSPARSEDENSE_BUILD_BENCHMARKS=OFF -DSPARSEDENSE_BUILD_EXAMPLES=OFF

# python_stage DIR: the package in a fresh venv and its pytest suite (see the top of this file)
python_stage() {
  local dir=$1 t0=$SECONDS py
  echo "== Python: fresh venv, requirements, pip install . ($dir)"
  rm -rf "$dir"
  mkdir -p "$dir"
  py="$dir/venv/bin/python"
  if python3 -m venv "$dir/venv" && "$py" -m pip install -q -r python/requirements-test.txt &&
     "$py" -m pip install -q --config-settings=build-dir="$dir/cmake" .; then
    echo "== Python: installed at $((SECONDS - t0)) s"
    echo "== Python: test inventory"
    (cd "$root" && "$py" -m pytest python/tests --collect-only -q -p no:cacheprovider) > "$dir/collected.txt" || true
    echo "== Python: pytest"
    SPARSEDENSE_HYBRID_EVAL="$root/build/test-release/bench/hybrid_eval" \
      "$py" -m pytest python/tests -q -p no:cacheprovider -rs --junitxml="$dir/pytest-report.xml" || status=1
    python3 scripts/check_test_inventory.py --pytest "$dir/collected.txt" "$dir/pytest-report.xml" || status=1
  else
    echo "== Python: could not create the environment or install the package"
    status=1
  fi
  reports+=("Python=$dir/pytest-report.xml")
  echo "== Python: done in $((SECONDS - t0)) s (stage), at $((SECONDS - start)) s"
}
python_stage build/test-python

echo "== summary (all stages, $((SECONDS - start)) s after the dependency check)"
python3 scripts/test_summary.py "${reports[@]}" || status=1
exit $status
