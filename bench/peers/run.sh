#!/usr/bin/env bash
# bench/peers/run.sh: our benchmark programs and the PyPI peers on the same base, queries and ground truth, merged.
#
#   bash bench/peers/run.sh DATASET [--quick] [options]
#     DATASET   splade-beir | bge-768 | glove-100 | all | custom
#     --quick            200 queries and small sweeps (a smoke run of a few minutes per data set)
#     --queries-max N    queries used (default 1000; --quick 200)
#     --repeat R         timed passes per configuration (default 3; every system reports its median pass)
#     --threads T        build threads and all-cores batch threads (default: nproc)
#     --out DIR          results root (default build/peers-results); each data set gets DIR/<name>/
#     --data DIR         shared data folder (default ../shared/data beside the repository, or $SPARSEDENSE_DATA)
#     --peers LIST       comma-separated subset of faiss,hnswlib,usearch,seismic,sparsedense-py (default: all that fit
#                        the data set; sparsedense-py = our indexes through the Python package)
#     --skip-setup       do not run bench/peers/setup.sh;   --skip-build  do not (re)build our benches
#   custom data set (DATASET = custom):
#     --name NAME --ground-truth GT.ivecs and either
#       --corpus C.csr --sparse-queries Q.csr                         (sparse, inner product)
#       --base B.fvecs --dense-queries Q.fvecs --metric ip|cosine     (dense)
#
# Run it under `nice -n 10` on a shared machine. Exit status 1 when a stage fails or a sanity check fails.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PEERS=$ROOT/bench/peers
VENV=${PEERS_VENV:-$ROOT/build/peers-venv}
CPP_BUILD=$ROOT/build/peers-cpp

usage() { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

DATASET=${1:-}
[[ -z $DATASET || $DATASET == -h || $DATASET == --help ]] && usage 0
shift
QUICK=0 NQ="" REPEAT=3 THREADS=$(nproc) OUT=$ROOT/build/peers-results DATA=${SPARSEDENSE_DATA:-$ROOT/../shared/data}
PEER_LIST="" SKIP_SETUP=0 SKIP_BUILD=0
C_NAME="" C_GT="" C_CORPUS="" C_SQUERIES="" C_BASE="" C_DQUERIES="" C_METRIC=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --quick) QUICK=1 ;;
        --queries-max) NQ=$2; shift ;;
        --repeat) REPEAT=$2; shift ;;
        --threads) THREADS=$2; shift ;;
        --out) OUT=$2; shift ;;
        --data) DATA=$2; shift ;;
        --peers) PEER_LIST=$2; shift ;;
        --skip-setup) SKIP_SETUP=1 ;;
        --skip-build) SKIP_BUILD=1 ;;
        --name) C_NAME=$2; shift ;;
        --ground-truth) C_GT=$2; shift ;;
        --corpus) C_CORPUS=$2; shift ;;
        --sparse-queries) C_SQUERIES=$2; shift ;;
        --base) C_BASE=$2; shift ;;
        --dense-queries) C_DQUERIES=$2; shift ;;
        --metric) C_METRIC=$2; shift ;;
        *) echo "run.sh: unknown argument '$1'" >&2; usage ;;
    esac
    shift
done
[[ -z $NQ ]] && { if ((QUICK)); then NQ=200; else NQ=1000; fi; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PY=$VENV/bin/python
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the source tree
FAILED=()
T_START=$(date +%s.%N)

want_peer() { [[ -z $PEER_LIST || ",$PEER_LIST," == *",$1,"* ]]; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# stage NAME LOG CMD...: runs CMD with stderr to LOG, records the wall time in $TIMINGS, prints the log tail on failure
stage() {
    local name=$1 logfile=$2; shift 2
    local t0; t0=$(date +%s.%N)
    echo "== $name" >&2
    "$@" 2>"$logfile"
    local rc=$?
    local secs; secs=$(elapsed "$t0")
    printf '%-28s %8s s%s\n' "$name" "$secs" "$([[ $rc -ne 0 ]] && echo "  FAILED (exit $rc)")" | tee -a "$TIMINGS" >&2
    if [[ $rc -ne 0 ]]; then
        echo "---- last lines of $logfile" >&2
        tail -n 25 "$logfile" >&2
        FAILED+=("$name")
    fi
    return $rc
}

# ---------------------------------------------------------------------------------------------- setup and build
TIMINGS=$OUT/timings-setup.txt
: > "$TIMINGS"
if ((!SKIP_SETUP)); then
    stage "setup (venv + pip)" "$OUT/setup.log" bash "$PEERS/setup.sh" || exit 1
fi
if ((!SKIP_BUILD)); then
    configure() {
        [[ -f $CPP_BUILD/CMakeCache.txt ]] && return 0
        cmake -S "$ROOT" -B "$CPP_BUILD" -DCMAKE_BUILD_TYPE=Release -DSPARSEDENSE_BUILD_TESTS=OFF \
            -DSPARSEDENSE_BUILD_BENCHMARKS=ON -DSPARSEDENSE_BUILD_EXAMPLES=OFF >&2
    }
    stage "configure ours (cmake)" "$OUT/build.log" configure || exit 1
    stage "build ours (-j1)" "$OUT/build-make.log" cmake --build "$CPP_BUILD" -j1 --target sparse_bench dense_bench || exit 1
fi
SPARSE_BENCH=$CPP_BUILD/bench/sparse_bench
DENSE_BENCH=$CPP_BUILD/bench/dense_bench

# ---------------------------------------------------------------------------------------------- one data set
quick_flag() { ((QUICK)) && echo --quick; }

run_sparse() {  # NAME CORPUS QUERIES GT
    local name=$1 corpus=$2 queries=$3 gt=$4 dir=$OUT/$1
    mkdir -p "$dir"
    TIMINGS=$dir/timings.txt
    : > "$TIMINGS"
    # lambda 200 (best at 0.90-0.95) and 280 = default_lambda(46k) (best at 0.99), query_mass 0.5 for the long cuts
    local ours_sweep=(--lambda 200,280 --query-cut 5,6,8,10,12,16 --query-mass 1,0.5 --heap-factor 1,0.9,0.8,0.7,0.6
                      --exact-algorithms taat,maxscore)
    ((QUICK)) && ours_sweep=(--query-cut 5,8,10 --heap-factor 0.9,0.7 --exact-algorithms taat)  # default lambda 1.3 sqrt(n)
    local csvs=("$dir/ours.csv") expect=sparsedense
    stage "[$name] ours: sparse_bench" "$dir/ours.log" bash -c '"$@" > "'"$dir/ours.csv"'"' _ "$SPARSE_BENCH" \
        --corpus "$corpus" --queries "$queries" --ground-truth "$gt" --csv --threads "$THREADS" --repeat "$REPEAT" \
        --max-queries "$NQ" "${ours_sweep[@]}"
    if want_peer seismic; then
        stage "[$name] peer: seismic" "$dir/seismic.log" "$PY" "$PEERS/peer_seismic.py" --corpus "$corpus" --queries "$queries" \
            --ground-truth "$gt" --max-queries "$NQ" --repeat "$REPEAT" --threads "$THREADS" --dataset "$name" \
            --out "$dir/seismic.csv" $(quick_flag) && csvs+=("$dir/seismic.csv")
        expect+=,seismic
    fi
    if want_peer sparsedense-py; then  # ours through the Python package, called like the peers
        stage "[$name] ours: python" "$dir/sparsedense-py.log" "$PY" "$PEERS/peer_sparsedense.py" --corpus "$corpus" \
            --queries "$queries" --ground-truth "$gt" --max-queries "$NQ" --repeat "$REPEAT" --threads "$THREADS" \
            --dataset "$name" --out "$dir/sparsedense-py.csv" $(quick_flag) && csvs+=("$dir/sparsedense-py.csv")
        expect+=,sparsedense-py
    fi
    merge "$name" "$dir" "$expect" "${csvs[@]}"
}

run_dense() {  # NAME BASE QUERIES GT METRIC
    local name=$1 base=$2 queries=$3 gt=$4 metric=$5 dir=$OUT/$1
    mkdir -p "$dir"
    TIMINGS=$dir/timings.txt
    : > "$TIMINGS"
    local n d
    read -r n d < <("$PY" -c "import numpy as np, os; h=np.fromfile('$base', dtype=np.int32, count=1)[0]; \
print(os.path.getsize('$base') // (4 * (h + 1)), h)")
    # IVF shape shared by ours and FAISS: nlist around 4 sqrt(n) (and half that), 4-bit PQ with d/4 sub-quantizers
    # (d/2 when d <= 128, as on glove-100), refine / k_factor and nprobe sweeps of the same values.
    local m=$((d <= 128 ? d / 2 : d / 4))
    local nl; nl=$("$PY" -c "import math; n=$n; print(max(1, min(n // 32, 1 << round(math.log2(4 * math.sqrt(n))))))")
    local nlists="$((nl / 2 > 0 ? nl / 2 : 1)),$nl" nprobes=4,8,16,32,64,128,256 refines=2,4,8,16
    local efs=10,16,24,32,48,64,96,128,256,512
    ((QUICK)) && { nlists=$nl; nprobes=8,32,128; refines=4,16; efs=16,32,64,256; }
    local csvs=("$dir/ours.csv") expect=sparsedense
    stage "[$name] ours: dense_bench" "$dir/ours.log" bash -c '"$@" > "'"$dir/ours.csv"'"' _ "$DENSE_BENCH" \
        --base "$base" --queries "$queries" --ground-truth "$gt" --metric "$metric" --csv --threads "$THREADS" \
        --repeat "$REPEAT" --max-queries "$NQ" --nlist "$nlists" --nbits 4 --m "$m" --nprobe "$nprobes" --refine "$refines" \
        --hnsw-ef "$efs" --hnsw-storage int8+f16,f32
    local common_args=(--base "$base" --queries "$queries" --ground-truth "$gt" --metric "$metric" --max-queries "$NQ"
                       --repeat "$REPEAT" --threads "$THREADS" --dataset "$name" $(quick_flag))
    if want_peer faiss; then
        stage "[$name] peer: faiss" "$dir/faiss.log" "$PY" "$PEERS/peer_faiss.py" "${common_args[@]}" --nlist "$nlists" \
            --pq-m "$m" --nprobe "$nprobes" --k-factor "$refines" --out "$dir/faiss.csv" && csvs+=("$dir/faiss.csv")
        expect+=,faiss
    fi
    if want_peer hnswlib; then
        stage "[$name] peer: hnswlib" "$dir/hnswlib.log" "$PY" "$PEERS/peer_hnswlib.py" "${common_args[@]}" \
            --out "$dir/hnswlib.csv" && csvs+=("$dir/hnswlib.csv")
        expect+=,hnswlib
    fi
    if want_peer usearch; then
        # USearch builds at expansion_add 200 are the slowest stage on large sets (glove-100: 2-5 min each on two
        # loaded cores): above 100k vectors, every dtype at connectivity 16 plus f16 (its strongest setting) at 32;
        # --quick builds f16 only there
        local ubuilds=()
        if ((n > 100000)); then
            ubuilds=(--builds f32:16,f16:16,i8:16,f16:32)
            ((QUICK)) && ubuilds=(--builds f16:16)
        fi
        stage "[$name] peer: usearch" "$dir/usearch.log" "$PY" "$PEERS/peer_usearch.py" "${common_args[@]}" "${ubuilds[@]}" \
            --out "$dir/usearch.csv" && csvs+=("$dir/usearch.csv")
        expect+=,usearch
    fi
    if want_peer sparsedense-py; then  # ours through the Python package: HnswIndex (int8+f16, f32) and IvfPqIndex
        stage "[$name] ours: python" "$dir/sparsedense-py.log" "$PY" "$PEERS/peer_sparsedense.py" "${common_args[@]}" \
            --ef "$efs" --nlist "$nl" --pq-m "$m" --nprobe "$nprobes" --refine "$refines" --out "$dir/sparsedense-py.csv" && csvs+=("$dir/sparsedense-py.csv")
        expect+=,sparsedense-py
    fi
    merge "$name" "$dir" "$expect" "${csvs[@]}"
}

merge() {  # NAME DIR EXPECT CSV...
    local name=$1 dir=$2 expect=$3; shift 3
    local present=()
    for f in "$@"; do [[ -s $f ]] && present+=("$f"); done
    local t0; t0=$(date +%s.%N)
    "$PY" "$PEERS/merge.py" "${present[@]}" --out-dir "$dir" --dataset "$name" --batch-threads "$THREADS" --expect "$expect" \
        | tee "$dir/merge.txt"
    local rc=${PIPESTATUS[0]}
    printf '%-28s %8s s%s\n' "[$name] merge" "$(elapsed "$t0")" "$([[ $rc -ne 0 ]] && echo "  SANITY FAILED")" | tee -a "$TIMINGS" >&2
    ((rc != 0)) && FAILED+=("[$name] merge / sanity checks")
    echo "[$name] stage timings:" >&2
    cat "$TIMINGS" >&2
}

run_named() {
    case $1 in
        splade-beir) run_sparse splade-beir "$DATA/splade-beir/corpus.csr" "$DATA/splade-beir/queries.csr" "$DATA/splade-beir/gt_top100.ivecs" ;;
        bge-768) run_dense bge-768 "$DATA/bge-768/base.fvecs" "$DATA/bge-768/query.fvecs" "$DATA/bge-768/gt_top100.ivecs" ip ;;
        glove-100) run_dense glove-100 "$DATA/glove-100/base.fvecs" "$DATA/glove-100/query.fvecs" "$DATA/glove-100/gt_angular_top100.ivecs" cosine ;;
        *) echo "run.sh: unknown data set '$1'" >&2; usage ;;
    esac
}

case $DATASET in
    all) for ds in splade-beir bge-768 glove-100; do run_named "$ds"; done ;;
    custom)
        [[ -n $C_NAME && -n $C_GT ]] || { echo "run.sh custom: --name and --ground-truth are required" >&2; usage; }
        if [[ -n $C_CORPUS ]]; then
            run_sparse "$C_NAME" "$C_CORPUS" "${C_SQUERIES:?--sparse-queries is required}" "$C_GT"
        else
            run_dense "$C_NAME" "${C_BASE:?--base or --corpus is required}" "${C_DQUERIES:?--dense-queries is required}" "$C_GT" \
                "${C_METRIC:?--metric is required}"
        fi ;;
    *) run_named "$DATASET" ;;
esac

echo "run.sh: finished in $(elapsed "$T_START") s; results in $OUT" >&2
if ((${#FAILED[@]})); then
    echo "run.sh: FAILED: ${FAILED[*]}" >&2
    exit 1
fi
