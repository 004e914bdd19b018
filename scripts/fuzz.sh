#!/usr/bin/env bash
# Runs every libFuzzer target (fuzz/) for SECONDS each, one after the other on one core, and prints a table of
# executions per target and the total. The targets are built in build/fuzz with clang-14 (ASan + UBSan +
# libFuzzer; installed with apt when missing). Each target starts from its committed corpus fuzz/corpus/<name>
# (and tests/fuzz_regressions/<name>) with the format's dictionary, the arguments of its ctest entry
# (fuzz/CMakeLists.txt: -rss_limit_mb, -timeout, -max_len), and keeps what it finds in build/fuzz-work/<name> (reused by
# the next run, never written into the source tree). A crash, leak, timeout or out-of-memory stops that target,
# leaves the input in build/fuzz-artifacts/ and makes the exit code non-zero.
#   usage: scripts/fuzz.sh SECONDS [TARGET...]     e.g. scripts/fuzz.sh 60 csr json
# Environment: FUZZ_RSS_LIMIT_MB (default 512), FUZZ_BUILD_DIR (default build/fuzz), FUZZ_LOG_DIR (default build/fuzz-logs).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}
shift
build=${FUZZ_BUILD_DIR:-build/fuzz}
logs=${FUZZ_LOG_DIR:-build/fuzz-logs}
rss=${FUZZ_RSS_LIMIT_MB:-512}
bash scripts/install_dependencies.sh clang-14 libclang-rt-14-dev
cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" \
  -DSPARSEDENSE_BUILD_FUZZERS=ON -DSPARSEDENSE_BUILD_TESTS=OFF -DSPARSEDENSE_BUILD_BENCHMARKS=OFF -DSPARSEDENSE_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j "${JOBS:-2}"
mkdir -p "$logs" build/fuzz-artifacts

# name <TAB> command (from the ctest entries, so the arguments are defined once, in fuzz/CMakeLists.txt)
mapfile -t entries < <(ctest --test-dir "$build" --show-only=json-v1 | python3 -c '
import json, sys
for t in json.load(sys.stdin)["tests"]:
    if t["name"].startswith("fuzz: "):
        print(t["name"][6:] + "\t" + "\x1f".join(t["command"]))')
tmp=/tmp
if [[ -d /dev/shm ]]; then tmp=/dev/shm; fi   # each input is written to a file: keep it in memory
status=0
total=0
printf '%-24s %8s %12s  %s\n' target seconds executions result
for entry in "${entries[@]}"; do
  name=${entry%%$'\t'*}
  if (($# > 0)) && [[ " $* " != *" $name "* ]]; then continue; fi
  IFS=$'\x1f' read -r -a cmd <<<"${entry#*$'\t'}"
  work=build/fuzz-work/$name
  mkdir -p "$work"
  args=()
  for a in "${cmd[@]:1}"; do
    case $a in
      -max_total_time=*) args+=("-max_total_time=$seconds") ;;
      -rss_limit_mb=*) args+=("-rss_limit_mb=$rss") ;;
      -artifact_prefix=*) args+=("-artifact_prefix=build/fuzz-artifacts/$name-") ;;
      */new_inputs/*) args+=("$work") ;;   # the ctest entry's scratch folder -> the persistent work corpus
      *) args+=("$a") ;;
    esac
  done
  log=$logs/$name.log
  start=$SECONDS
  if TMPDIR=$tmp ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "${cmd[0]}" "${args[@]}" >"$log" 2>&1; then
    result=ok
  else
    result="FAILED (see $log)"
    status=1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
  execs=${execs:-0}
  total=$((total + execs))
  printf '%-24s %8d %12d  %s\n' "$name" $((SECONDS - start)) "$execs" "$result"
done
printf '%-24s %8s %12d\n' total "" "$total"
exit $status
