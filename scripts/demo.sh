#!/usr/bin/env bash
# The main job on a fresh Debian machine: installs dependencies, builds the library's programs in Release and runs
# the bundled demo on data generated deterministically (no download): kernel throughput per SIMD level and exact
# flat search, then the sparse and dense index benchmarks on generated sets, each printing a table.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=${JOBS:-$(nproc)}
bash scripts/install_dependencies.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DSPARSEDENSE_BUILD_TESTS=OFF -DSPARSEDENSE_BUILD_BENCHMARKS=ON \
      -DSPARSEDENSE_BUILD_EXAMPLES=ON >/dev/null
cmake --build build/release -j "$jobs" --target sparsedense_demo
build/release/bench/sparsedense_demo
