#!/usr/bin/env bash
# Measures what the library costs to compile (docs/benchmarks.md, "Compile cost"): CPU seconds (user + sys, median
# of three compiles) and peak
# compiler memory of consumer translation units at -O2 with the system g++, then (with --tests) every translation
# unit of the Release and sanitizer test builds. Run on an idle machine: a second job on the other core adds 10-30%.
#   bash scripts/measure_compile_cost.sh [--tests]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cxx=${CXX:-g++}
flags=(-std=c++20 -O2 -fopenmp -I"$root/include" -I/usr/include/eigen3)

measure() {  # NAME SOURCE [extra flags]: the median of three compiles (these machines vary by 15-25%)
  local name=$1 src=$2
  shift 2
  : >"$work/t"
  for _ in 1 2 3; do /usr/bin/time -f "%U %S %M" -a -o "$work/t" "$cxx" "${flags[@]}" "$@" -c "$src" -o "$work/o.o"; done
  awk '{print $1 + $2, $3}' "$work/t" | sort -n | sed -n 2p |
    awk -v name="$name" '{printf "%-58s %6.1f s CPU  %6.0f MB\n", name, $1, $2 / 1024}'
}

# the README's program: builds, searches, saves and loads every index, and calls the kernels
sed -n '/^```cpp$/,/^```$/p' "$root/README.md" | sed '1d;$d' >"$work/readme.cpp"
printf '#include <sparsedense/sparsedense.hpp>\nint main() { return 0; }\n' >"$work/include_only.cpp"
cat >"$work/search_only.cpp" <<'CPP'
// one call into each index: search indexes loaded from files (what a serving program compiles)
#include <sparsedense/sparsedense.hpp>
using namespace sparsedense;
int main(int argc, char** argv) {
    if (argc < 5) return 0;
    const auto q = io::read_csr(argv[1]);
    const auto d = io::read_fvecs(argv[2]);
    std::size_t n = InvertedIndex::load(argv[3]).search(q.row(0), 10).size();
    n += ClusteredInvertedIndex::load(argv[3]).search(q.row(0), 10).size();
    n += FlatIndex::load(argv[4]).search(d.row(0), 10).size();
    n += IvfPqIndex<>::load(argv[4]).search(d.row(0), 10).size();
    n += HnswIndex::load(argv[4]).search(d.row(0), 10).size();
    return static_cast<int>(n);
}
CPP
echo "g++ $($cxx -dumpfullversion), -O2, $(nproc) cores; CPU = user + sys of one compiler process"
measure "umbrella header, nothing used" "$work/include_only.cpp"
measure "umbrella + load and search each index" "$work/search_only.cpp"
measure "README program: build/search/save/load every index" "$work/readme.cpp"
measure "README program, compiled-kernels mode" "$work/readme.cpp" -DSPARSEDENSE_COMPILED_KERNELS=1

if [[ ${1:-} == --tests ]]; then
  cat >"$work/timecc.sh" <<'SH'
#!/bin/bash
out=""; prev=""
for a in "$@"; do [[ $prev == -o ]] && out=$a; prev=$a; done
/usr/bin/time -f "%U %S %M ${out##*/}" -a -o "$TIMES" "$@"
SH
  chmod +x "$work/timecc.sh"
  for stage in release sanitize; do
    opts=(-DCMAKE_BUILD_TYPE=Release -DSPARSEDENSE_SANITIZE=OFF)
    [[ $stage == sanitize ]] && opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" -DSPARSEDENSE_SANITIZE=ON)
    export TIMES=$work/times-$stage
    cmake -S "$root" -B "$work/build-$stage" -DSPARSEDENSE_BUILD_TESTS=ON -DSPARSEDENSE_BUILD_BENCHMARKS=OFF -DSPARSEDENSE_BUILD_EXAMPLES=OFF \
          "${opts[@]}" -DCMAKE_CXX_COMPILER_LAUNCHER="$work/timecc.sh" >/dev/null
    start=$SECONDS
    cmake --build "$work/build-$stage" -j "$(nproc)" >/dev/null 2>&1
    awk -v stage="$stage" -v wall=$((SECONDS - start)) '{cpu += $1 + $2; if ($3 > max) {max = $3; name = $4}} END {
      printf "tests, %s: %d translation units, %.0f s CPU, %d s wall; largest compiler memory %.0f MB (%s)\n", stage, NR, cpu, wall, max / 1024, name}' "$TIMES"
  done
fi
