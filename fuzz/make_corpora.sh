#!/usr/bin/env bash
# Rebuilds the committed seed corpora of fuzz/corpus/<target>/ (a few hundred KB in all):
#   lib-*   files the library writes (sparsedense_fuzz_seeds: index files of every kind and option, CSR, vecs);
#   data-*  small slices of ../shared/data's permissively licensed sets (fiori-minilm rows, seismic-toy CSR,
#           JSONL and passages re-shaped as BEIR / TREC files);
#   hand-*  hand-written edge cases (empty objects, escapes, surrogates, headers, ties).
# usage: fuzz/make_corpora.sh SEEDS_PROGRAM   (build/fuzz/fuzz/sparsedense_fuzz_seeds)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seeds=${1:?usage: make_corpora.sh path/to/sparsedense_fuzz_seeds}
data=${SPARSEDENSE_SHARED_DATA_DIR:-$root/../shared/data}
corpus=$root/fuzz/corpus
rm -rf "$corpus"
mkdir -p "$corpus"
"$seeds" "$corpus"

c() { mkdir -p "$corpus/$1"; echo "$corpus/$1/$2"; }
# Slices of the shared data: only the two sets whose licence allows copying pieces (../shared/data/README.md):
# fiori-minilm (Apache-2.0) and seismic-toy (MIT). The BEIR / TREC seeds are seismic-toy passages and queries
# re-shaped into those formats; the other sets' formats are covered by the hand-written seeds.
head -c $((2 * (4 + 4 * 384))) "$data/fiori-minilm/vectors.fvecs" >"$(c fvecs data-fiori-2rows.fvecs)"
head -c $((1 * (4 + 4 * 384))) "$data/fiori-minilm/vectors.fvecs" | python3 -c 'import sys,struct; b=sys.stdin.buffer.read(); sys.stdout.buffer.write(b[:4] + struct.pack("<384i", *[int(x*1000) for x in struct.unpack("<384f", b[4:])]))' \
  >"$(c ivecs data-fiori-row-as-int.ivecs)"
cp "$data/seismic-toy/queries.csr" "$(c csr data-seismic-queries.csr)"
head -n 2 "$data/seismic-toy/queries.jsonl" >"$(c json data-seismic-2queries.jsonl)"
python3 - "$data/seismic-toy" "$corpus" <<'PY'
import json, os, sys
toy, corpus = sys.argv[1], sys.argv[2]
def out(target, name, text):
    os.makedirs(f"{corpus}/{target}", exist_ok=True)
    open(f"{corpus}/{target}/{name}", "w", encoding="utf-8").write(text)
docs = [json.loads(l) for l in open(f"{toy}/documents.jsonl", encoding="utf-8").read().splitlines()[:3]]
queries = [json.loads(l) for l in open(f"{toy}/queries.jsonl", encoding="utf-8").read().splitlines()[:3]]
out("beir_corpus", "data-seismic-3docs.jsonl", "".join(json.dumps({"_id": str(d["id"]), "title": d["content"][:40], "text": d["content"][:300]}) + "\n" for d in docs))
out("beir_queries", "data-seismic-3queries.jsonl", "".join(json.dumps({"_id": str(q["id"]), "text": q["content"]}) + "\n" for q in queries))
out("json", "data-seismic-doc.json", json.dumps({"_id": str(docs[0]["id"]), "text": docs[0]["content"][:200], "metadata": {}}))
out("beir_qrels", "data-seismic-qrels.tsv", "query-id\tcorpus-id\tscore\n" + "".join(f"{q['id']}\t{d['id']}\t{(i + j) % 3}\n" for i, q in enumerate(queries) for j, d in enumerate(docs)))
out("trec_qrels", "data-seismic-qrels.txt", "".join(f"{q['id']} 0 {d['id']} {(i + j) % 3}\n" for i, q in enumerate(queries) for j, d in enumerate(docs)))
out("trec_run", "data-seismic-run.txt", "".join(f"{q['id']} Q0 {d['id']} {j + 1} {20.5 - j * 1.25:.4f} splade\n" for q in queries for j, d in enumerate(docs)))
out("text", "data-seismic-2docs.txt", "\n".join(d["content"][:400] for d in docs[:2]) + "\n")
out("text", "data-seismic-queries.txt", "\n".join(q["content"] for q in queries) + "\n")
PY
# sparse JSONL: "<vocabulary>\0<jsonl>", the vocabulary being the terms of two seismic-toy queries plus BERT's first lines
python3 - "$data" "$(c sparse_jsonl data-seismic-2queries.bin)" <<'PY'
import json, sys
data, out = sys.argv[1], sys.argv[2]
lines = open(f"{data}/seismic-toy/queries.jsonl", encoding="utf-8").read().splitlines()[:2]
terms = []
for l in lines:
    for t in json.loads(l)["vector"]:
        if t not in terms: terms.append(t)
vocab = open(f"{data}/splade-beir/vocab.txt", encoding="utf-8").read().splitlines()[990:1010] + terms
open(out, "wb").write(("\n".join(vocab) + "\n").encode() + b"\0" + ("\n".join(lines) + "\n").encode())
PY
# hand-written edge cases
printf '{"_id": "d1", "title": "", "text": "caf\\u00e9 \\ud83d\\ude00 \\"quoted\\"", "metadata": {"a": [1, {"b": null}]}}\n{"_id": 2, "text": "numeric id"}\n' \
  >"$(c beir_corpus hand-escapes.jsonl)"
cp "$corpus/beir_corpus/hand-escapes.jsonl" "$(c json hand-escapes.json)"
printf '{"_id": "q1", "text": "what is  x?"}\n\n{"_id": "q2", "text": "\\t tab", "extra": [true, false, -1.5e3]}\n' >"$(c beir_queries hand-blank-line.jsonl)"
printf 'q1\t0\td1\t2\nq1 0 d2 0\nq2 0 d1 -1\n' >"$(c trec_qrels hand-mixed.txt)"
printf 'q1\td1\t1\nq1 d2 0\n' >"$(c beir_qrels hand-no-header.tsv)"
printf 'q1 Q0 d1 1 12.5 run\nq1 Q0 d2 2 12.5 run\nq1 Q0 d3 3 -1e-3 run\nq2 Q0 d1 1 inf run\nq2 Q0 d9 2 0 run\n' >"$(c trec_run hand-ties.txt)"
printf '1 Q0 184 1 17.25 bm25\n1 Q0 29 2 16.5 bm25\n1 Q0 31 3 16.5 bm25\n2 Q0 12 1 9.0 bm25\n' >"$(c trec_run hand-cranfield.txt)"
printf 'Na\xc3\xafve caf\xc3\xa9 STRASSE stra\xc3\x9fe \xc3\x86sir running runs ran \xce\xb1\xce\xb2 \xe4\xb8\xad yyyyyyyy relational conditional \xff\xfe\n' \
  >"$(c text hand-utf8.txt)"
printf '[[[[[]]]], {"a": {"b": {"c": []}}}, "\\ud800\\udc00", -0.0e+1, true, null]' >"$(c json hand-nested.json)"
printf '{"id": "x", "vector": {"a": 1.5, "b": 2e-3}}\n{"vector": {}}\n' >"$corpus/sparse_jsonl/hand-small.bin.tmp"
printf 'a\nb\nc\n\0' | cat - "$corpus/sparse_jsonl/hand-small.bin.tmp" >"$(c sparse_jsonl hand-small.bin)"
rm "$corpus/sparse_jsonl/hand-small.bin.tmp"
du -sh "$corpus"
for d in "$corpus"/*/; do printf '%-24s %3d files %6d bytes\n' "$(basename "$d")" "$(ls "$d" | wc -l)" "$(cat "$d"/* | wc -c)"; done
