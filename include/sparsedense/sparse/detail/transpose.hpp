// sparsedense/sparse/detail/transpose.hpp
//
// transpose_csr: documents (CSR rows) -> posting lists (one per term, document ids increasing, with weights).
// Workers count terms over contiguous document ranges, then each writes its range's postings at precomputed
// positions, so every list comes out in document order without sorting.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/core/parallel.hpp"

namespace sparsedense::detail {

struct PostingLists {
    std::vector<std::uint64_t> offsets;  // dimension + 1
    std::vector<std::uint32_t> docs;
    std::vector<float> weights;
};

inline PostingLists transpose_csr(CsrMatrixView<float> docs, std::size_t dim, std::size_t threads) {
    PostingLists out;
    const std::size_t n = docs.rows(), nnz = docs.nnz();
    const std::size_t parts = std::min<std::size_t>(resolve_threads(threads), std::max<std::size_t>(1, n / 1024));
    std::vector<std::vector<std::uint64_t>> counts(parts, std::vector<std::uint64_t>(dim, 0));
    auto part_begin = [&](std::size_t p) { return n * p / parts; };
    parallel_for(parts, parts, 1, [&](std::size_t b, std::size_t e, std::size_t) {
        for (std::size_t p = b; p < e; ++p) {
            if (n == 0) continue;
            for (std::uint64_t i = docs.indptr[part_begin(p)]; i < docs.indptr[part_begin(p + 1)]; ++i) ++counts[p][docs.indices[i]];
        }
    });
    out.offsets.assign(dim + 1, 0);
    for (std::size_t t = 0; t < dim; ++t) {
        std::uint64_t total = 0;
        for (std::size_t p = 0; p < parts; ++p) {
            const std::uint64_t c = counts[p][t];
            counts[p][t] = out.offsets[t] + total;  // becomes the part's write position
            total += c;
        }
        out.offsets[t + 1] = out.offsets[t] + total;
    }
    out.docs.resize(nnz);
    out.weights.resize(nnz);
    parallel_for(parts, parts, 1, [&](std::size_t b, std::size_t e, std::size_t) {
        for (std::size_t p = b; p < e; ++p) {
            auto& pos = counts[p];
            for (std::size_t d = part_begin(p); d < part_begin(p + 1); ++d) {
                for (std::uint64_t i = docs.indptr[d]; i < docs.indptr[d + 1]; ++i) {
                    const std::uint64_t at = pos[docs.indices[i]]++;
                    out.docs[at] = static_cast<std::uint32_t>(d);
                    out.weights[at] = docs.values[i];
                }
            }
        }
    });
    return out;
}

}  // namespace sparsedense::detail
