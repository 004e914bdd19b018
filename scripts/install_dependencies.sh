#!/usr/bin/env bash
# Installs what sparsedense needs to build, test and benchmark on Debian bookworm (run as root, or with sudo):
# the compiler and CMake, Eigen and xsimd (the library's dependencies), Catch2 (tests), Google Benchmark (kernel
# benchmarks), CLI11 (the bench programs' command lines) and python3 (the test scripts' inventory and summary), plus any packages given as arguments (the fuzz
# stage of scripts/test.sh and scripts/fuzz.sh pass clang-14 libclang-rt-14-dev, needed by them only). Skips apt
# entirely when all are installed.
# Waits (up to 10 minutes) for another apt or dpkg process to release its lock, as on a freshly booted VM.
set -euo pipefail
packages=(g++ cmake make libeigen3-dev libxsimd-dev catch2 libbenchmark-dev libcli11-dev python3 "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "dependencies: all installed"
  exit 0
fi
sudo=""
if [[ $(id -u) != 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
lock_wait=600

# Runs an apt command, retrying while another process holds an apt/dpkg lock (bounded by lock_wait seconds).
apt_with_lock_wait() {
  local waited=0 log
  log=$(mktemp)
  while true; do
    if $sudo "$@" -o DPkg::Lock::Timeout=60 >"$log" 2>&1; then rm -f "$log"; return 0; fi
    if grep -qiE 'could not get lock|unable to lock|is another process using it' "$log" && ((waited < lock_wait)); then
      echo "dependencies: apt is locked by another process; waiting (${waited}s so far)"
      sleep 10
      waited=$((waited + 10))
      continue
    fi
    cat "$log" >&2
    rm -f "$log"
    return 1
  done
}

echo "dependencies: installing ${missing[*]}"
apt_with_lock_wait apt-get update -qq
apt_with_lock_wait apt-get install -y -qq --no-install-recommends "${missing[@]}"
