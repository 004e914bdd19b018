#!/usr/bin/env bash
# Installs what sparsedense needs to build, test and benchmark on Debian bookworm (run as root, or with sudo).
# Skips apt entirely when every package is already installed.
set -euo pipefail
packages=(g++ cmake make libeigen3-dev libxsimd-dev catch2 libbenchmark-dev python3-numpy)
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
echo "dependencies: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
