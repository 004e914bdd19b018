#!/usr/bin/env bash
# The main job on a fresh Debian machine: installs dependencies, builds the library's programs in Release and runs
# the bundled demo on data generated deterministically (no download): kernel throughput per SIMD level and exact
# flat search, then the sparse and dense index benchmarks on generated sets, each printing a table.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=${JOBS:-$(nproc)}
bash scripts/install_dependencies.sh
# its own build folder, every option explicit (scripts/test.sh uses build/test-*)
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DSPARSEDENSE_BUILD_TESTS=OFF -DSPARSEDENSE_BUILD_BENCHMARKS=ON \
      -DSPARSEDENSE_BUILD_EXAMPLES=ON -DSPARSEDENSE_SANITIZE=OFF >/dev/null
cmake --build build/release -j "$jobs" --target sparsedense_demo sparse_bench dense_bench
echo "== 1/3 kernels: exact top-10 search at every SIMD level"
build/release/bench/sparsedense_demo
echo
echo "== 2/3 learned-sparse: exact inverted index vs clustered (Seismic-style) index, generated SPLADE-like corpus"
build/release/bench/sparse_bench
echo
echo "== 3/3 dense: flat vs IVF-PQ (8-bit and 4-bit fast-scan) with re-ranking, generated embeddings-like vectors"
echo "   (nprobe = coarse lists scanned per query, refine = PQ candidates re-ranked exactly per result: both raise recall)"
build/release/bench/dense_bench --synthetic 100000 --metric ip --nprobe 4,16,64 --refine 1,4,16
