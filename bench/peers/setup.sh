#!/usr/bin/env bash
# bench/peers/setup.sh: create the peers' virtual environment (default build/peers-venv under the repository root)
# and pip-install bench/peers/requirements.txt into it. Idempotent: skips the install when the venv already holds
# exactly these requirements (a stamp with the file's checksum) and the packages import. Then installs our own Python
# package (`pip install <repo root>`, the `sparsedense-py` rows) unless the venv already holds a build of exactly
# these sources (a second stamp: the checksum of include/, src/, python/, cmake/, CMakeLists.txt, pyproject.toml).
#   bash bench/peers/setup.sh            PEERS_VENV=/path overrides the location, PYTHON=python3.11 the interpreter
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV=${PEERS_VENV:-$ROOT/build/peers-venv}
REQ=$ROOT/bench/peers/requirements.txt
STAMP=$VENV/.peers-requirements.sha256
IMPORTS="import faiss, hnswlib, usearch.index, seismic, numpy, matplotlib"

OURS_STAMP=$VENV/.peers-sparsedense.sha256

install_ours() {  # our package, built from this tree with its own flags (pyproject.toml: scikit-build-core, Release)
    local want_ours
    want_ours=$(cd "$ROOT" && find include src python cmake CMakeLists.txt pyproject.toml -type f \
        ! -name '*.pyc' ! -path '*/__pycache__/*' 2>/dev/null | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1)
    if [[ -f $OURS_STAMP && $(cat "$OURS_STAMP") == "$want_ours" ]] && "$VENV/bin/python" -c "import sparsedense" 2>/dev/null; then
        echo "peers venv: sparsedense (this tree) already installed (skipping)"
        return 0
    fi
    echo "peers venv: pip install $ROOT (sparsedense, this tree)"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q "$ROOT"
    "$VENV/bin/python" -c "import sparsedense"
    echo "$want_ours" > "$OURS_STAMP"
}

want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [[ -x $VENV/bin/python && -f $STAMP && $(cat "$STAMP") == "$want" ]] && "$VENV/bin/python" -c "$IMPORTS" 2>/dev/null; then
    echo "peers venv: $VENV already has $(basename "$REQ") installed (skipping)"
    install_ours
    exit 0
fi

if [[ -z ${PYTHON:-} ]]; then
    if command -v python3.11 >/dev/null 2>&1; then PYTHON=python3.11; else PYTHON=python3; fi
fi
if [[ ! -x $VENV/bin/python ]]; then
    echo "peers venv: creating $VENV with $("$PYTHON" --version 2>&1)"
    mkdir -p "$(dirname "$VENV")"
    "$PYTHON" -m venv "$VENV"
fi
# hnswlib has no wheel: pip builds it from its sdist (needs a C++ compiler and the Python headers); its setup.py
# adds -O3 -march=native unless HNSWLIB_NO_NATIVE is set.
echo "peers venv: pip install -r $REQ"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQ"
"$VENV/bin/python" -c "$IMPORTS"
echo "$want" > "$STAMP"
"$VENV/bin/python" -m pip --disable-pip-version-check freeze | grep -i -E '^(faiss-cpu|hnswlib|usearch|pyseismic-lsr|numpy|matplotlib)==' \
    | sed 's/^/peers venv: installed /'
install_ours
