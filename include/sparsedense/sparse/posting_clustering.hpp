// sparsedense/sparse/posting_clustering.hpp
//
// Clustering of one pruned posting list into blocks of similar documents, the second build step of the clustered
// index (Seismic, Bruch et al., SIGIR 2024, section 4.2: a shallow, one-pass k-means). The documents of a list are
// grouped so that a block's summary (block_summaries.hpp) bounds its documents tightly:
//   1. beta = centroid_fraction x |list| documents of the list are drawn at random as centroids (seeded per term);
//   2. every document goes to the centroid of largest inner product, computed through a small inverted index over
//      the centroids' full vectors using only the document's `doc_cut` heaviest terms (DocumentHeads); a document
//      sharing no heavy term with any centroid is spread deterministically;
//   3. clusters smaller than min_cluster_size are dissolved and their documents reassigned to the surviving ones;
//   4. the postings are reordered cluster by cluster (ties by list position): each cluster becomes one block.
// Lists are independent, so the index clusters them in parallel, one ClusterScratch per worker.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/core/parallel.hpp"
#include "sparsedense/sparse/clustered_index_params.hpp"

namespace sparsedense::detail {

/// The `cut` heaviest terms of every document (ties by position), the part of a document that picks its centroid.
struct DocumentHeads {
    std::size_t cut = 0;
    std::vector<std::uint32_t> ids;   // documents x cut
    std::vector<float> values;        // documents x cut
    std::vector<std::uint8_t> length; // terms kept per document (<= cut)

    static DocumentHeads compute(CsrMatrixView<float> docs, std::size_t cut, std::size_t threads) {
        const std::size_t n = docs.rows();
        DocumentHeads h;
        h.cut = cut;
        h.ids.resize(n * cut);
        h.values.resize(n * cut);
        h.length.resize(n);
        parallel_for(n, threads, 2048, [&](std::size_t b, std::size_t e, std::size_t) {
            std::vector<std::uint32_t> order;
            for (std::size_t d = b; d < e; ++d) {
                const auto row = docs.row(d);
                order.resize(row.size());
                std::iota(order.begin(), order.end(), 0u);
                const std::size_t c = std::min(cut, row.size());
                std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(c), order.end(), [&](std::uint32_t x, std::uint32_t y) {
                    return row.values[x] > row.values[y] || (row.values[x] == row.values[y] && x < y);
                });
                for (std::size_t i = 0; i < c; ++i) {
                    h.ids[d * cut + i] = row.ids[order[i]];
                    h.values[d * cut + i] = row.values[order[i]];
                }
                h.length[d] = static_cast<std::uint8_t>(std::min<std::size_t>(c, 255));
            }
        });
        return h;
    }
};

/// Per-worker clustering scratch: the centroids' inverted index (term -> chain of entries) and the assignment.
struct ClusterScratch {
    std::vector<std::int32_t> head;  // dimension: first centroid-entry of a term, -1 = none
    std::vector<std::uint32_t> head_touched;
    struct Entry {
        std::uint32_t centroid;
        float value;
        std::int32_t next;
    };
    std::vector<Entry> entries;
    std::vector<float> cscore;
    std::vector<std::uint32_t> ctouched;
    std::vector<std::uint32_t> assign;  // list position -> cluster
    std::vector<std::uint32_t> sizes;
    std::vector<std::uint32_t> perm;
    std::vector<bool> alive;

    void ensure(std::size_t dimension) {
        if (head.size() < dimension) head.assign(dimension, -1);
    }
};

/// Draws nc distinct random list positions (s.perm[0, nc)) and indexes their full vectors.
inline void index_random_centroids(CsrMatrixView<float> docs, const std::vector<std::uint32_t>& list, std::size_t nc, std::uint64_t seed,
                                   ClusterScratch& s) {
    const std::size_t m = list.size();
    std::mt19937_64 rng(seed);
    s.perm.resize(m);
    std::iota(s.perm.begin(), s.perm.end(), 0u);
    for (std::size_t i = 0; i < nc; ++i) {
        std::uniform_int_distribution<std::size_t> pick(i, m - 1);
        std::swap(s.perm[i], s.perm[pick(rng)]);
    }
    s.entries.clear();
    s.head_touched.clear();
    for (std::size_t c = 0; c < nc; ++c) {
        const auto row = docs.row(list[s.perm[c]]);
        for (std::size_t i = 0; i < row.size(); ++i) {
            const std::uint32_t term = row.ids[i];
            if (s.head[term] < 0) s.head_touched.push_back(term);
            s.entries.push_back({static_cast<std::uint32_t>(c), row.values[i], s.head[term]});
            s.head[term] = static_cast<std::int32_t>(s.entries.size() - 1);
        }
    }
    s.cscore.assign(nc, 0.0f);
    s.sizes.assign(nc, 0);
    s.alive.assign(nc, true);
}

/// The live centroid of largest inner product with the document's heavy terms (ties by smaller centroid).
inline std::uint32_t best_centroid(const DocumentHeads& heads, std::uint32_t doc, std::size_t nc, ClusterScratch& s) {
    s.ctouched.clear();
    const std::size_t len = heads.length[doc], cut = heads.cut;
    for (std::size_t i = 0; i < len; ++i) {
        const float v = heads.values[doc * cut + i];
        for (std::int32_t e = s.head[heads.ids[doc * cut + i]]; e >= 0; e = s.entries[static_cast<std::size_t>(e)].next) {
            const auto& en = s.entries[static_cast<std::size_t>(e)];
            if (s.cscore[en.centroid] == 0.0f) s.ctouched.push_back(en.centroid);
            s.cscore[en.centroid] += v * en.value;
        }
    }
    std::uint32_t best = std::numeric_limits<std::uint32_t>::max();
    float best_score = -std::numeric_limits<float>::infinity();
    for (std::uint32_t c : s.ctouched) {
        const float sc = s.cscore[c];
        s.cscore[c] = 0.0f;
        if (!s.alive[c]) continue;
        if (sc > best_score || (sc == best_score && c < best)) {
            best_score = sc;
            best = c;
        }
    }
    if (best == std::numeric_limits<std::uint32_t>::max()) {
        // no shared heavy term with any live centroid: spread deterministically over live ones
        std::uint32_t c = static_cast<std::uint32_t>((std::uint64_t{doc} * 0x9e3779b1u) % nc);
        for (std::size_t tries = 0; tries < nc && !s.alive[c]; ++tries) c = static_cast<std::uint32_t>((c + 1) % nc);
        best = c;
    }
    return best;
}

/// Dissolves clusters smaller than min_size, reassigning their documents to the surviving clusters.
inline void dissolve_small_clusters(const DocumentHeads& heads, const std::vector<std::uint32_t>& list, std::size_t nc, std::size_t min_size,
                                    ClusterScratch& s) {
    std::size_t live = 0;
    for (std::size_t c = 0; c < nc; ++c) {
        s.alive[c] = s.sizes[c] >= min_size;
        live += s.alive[c];
    }
    if (live == 0) {
        std::fill(s.assign.begin(), s.assign.end(), 0u);
    } else if (live < nc) {
        for (std::size_t i = 0; i < list.size(); ++i)
            if (!s.alive[s.assign[i]]) s.assign[i] = best_centroid(heads, list[i], nc, s);
    }
}

/// Clusters the list of `term` into s.assign (list position -> cluster id).
inline void cluster_posting_list(CsrMatrixView<float> docs, const DocumentHeads& heads, const std::vector<std::uint32_t>& list, std::uint32_t term,
                                 const ClusteredInvertedIndexBuildParams& params, ClusterScratch& s) {
    const std::size_t m = list.size();
    std::size_t nc = static_cast<std::size_t>(std::llround(params.centroid_fraction * static_cast<double>(m)));
    nc = std::clamp<std::size_t>(nc, 1, std::min<std::size_t>(m, 65535));
    s.assign.assign(m, 0);
    if (nc <= 1) return;
    index_random_centroids(docs, list, nc, params.seed ^ (0x9e3779b97f4a7c15ULL * (std::uint64_t{term} + 1)), s);
    for (std::size_t i = 0; i < m; ++i) {
        s.assign[i] = best_centroid(heads, list[i], nc, s);
        ++s.sizes[s.assign[i]];
    }
    if (params.min_cluster_size > 1) dissolve_small_clusters(heads, list, nc, params.min_cluster_size, s);
    for (std::uint32_t t : s.head_touched) s.head[t] = -1;
}

/// Reorders the list cluster by cluster (ties by list position) into `ordered`; block b of the list is
/// [bounds[b], bounds[b + 1]).
inline void order_by_cluster(const std::vector<std::uint32_t>& list, ClusterScratch& s, std::vector<std::uint32_t>& ordered,
                             std::vector<std::uint64_t>& bounds) {
    const std::size_t m = list.size();
    s.perm.resize(m);
    std::iota(s.perm.begin(), s.perm.end(), 0u);
    std::sort(s.perm.begin(), s.perm.end(), [&](std::uint32_t x, std::uint32_t y) {
        return s.assign[x] < s.assign[y] || (s.assign[x] == s.assign[y] && x < y);
    });
    ordered.resize(m);
    bounds.clear();
    for (std::size_t i = 0; i < m; ++i) {
        ordered[i] = list[s.perm[i]];
        if (i == 0 || s.assign[s.perm[i]] != s.assign[s.perm[i - 1]]) bounds.push_back(i);
    }
    bounds.push_back(m);
}

}  // namespace sparsedense::detail
