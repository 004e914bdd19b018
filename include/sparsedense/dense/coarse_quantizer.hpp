// sparsedense/dense/coarse_quantizer.hpp
//
// CoarseQuantizer: the first level of an inverted file (IVF; Sivic & Zisserman 2003, used for ANN search by Jégou,
// Douze & Schmid, "Product quantization for nearest neighbor search", TPAMI 2011, and FAISS's IndexIVF "quantizer").
// nlist centroids learned by k-means partition the space into cells; a vector belongs to the list of its nearest
// centroid, and a query probes the nprobe nearest cells.
//
// One assignment for both uses: a vector x is scored against every centroid c by
//     score(c) = 2 <x, c> - |c|^2          (= |x|^2 - |x - c|^2: higher is nearer in L2)
// with one pass of the packed-panel kernel (simd::panel_dot; the centroids packed 16 per panel on construction, one
// broadcast query value feeds 4 x 16 centroids per step, no horizontal sums: 3.7 us against 4.2 us for the
// one-query many-rows kernel at nlist 1024, d 100), then the nprobe best chosen without a heap (select_best: a bar
// from group maxima, a sort of the few scores above it; the heap of nprobe had cost as much as the scoring).
// assign() (used when adding vectors and when training the PQ on residuals) keeps the best cell; probe() (used by search) keeps the nprobe best, best first. The same kernel and
// the same float expression are used in both, so a vector added to the index is found in the first cell its own
// query probes (probe(x, 1) == assign(x), ties to the smaller list id; tested).
//
// The centroids live in an io::Buffer<float>: owned after training, a view into the index file after load (zero
// copy); the centroid norms (nlist floats) are recomputed on construction.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/core/parallel.hpp"
#include "sparsedense/core/top_k_collector.hpp"
#include "sparsedense/io/binary_format.hpp"
#include "sparsedense/simd/dense_kernels.hpp"

namespace sparsedense {

class CoarseQuantizer {
public:
    /// A probed cell: the list id and <query, centroid> (the inner-product LUT constant of that list).
    struct Probe {
        std::uint32_t list;
        float dot;
    };
    /// Per-thread working memory of probe().
    struct Scratch {
        std::vector<float> dots, scores, group_max;
        std::vector<SearchResult<std::uint32_t, float>> best;
        std::vector<Probe> probes;
    };

    CoarseQuantizer() = default;
    /// nlist x dimension centroids (row-major), owned or mapped.
    CoarseQuantizer(io::Buffer<float> centroids, std::size_t dimension) : centroids_(std::move(centroids)), dim_(dimension) {
        if (dimension == 0 || centroids_.size() % dimension != 0 || centroids_.empty())
            raise(ErrorKind::invalid_argument, "CoarseQuantizer: ", centroids_.size(), " centroid values do not form rows of dimension ", dimension);
        nlist_ = centroids_.size() / dimension;
        norms_.resize(nlist_);
        for (std::size_t c = 0; c < nlist_; ++c) norms_[c] = simd::dot(centroid(c), centroid(c), dim_);
        padded_ = (nlist_ + 15) / 16 * 16;
        panels_.resize(padded_ * dim_);
        simd::pack_panels(centroids_.data(), nlist_, dim_, dim_, panels_.data());
    }
    explicit CoarseQuantizer(const DenseMatrix<float>& centroids)
        : CoarseQuantizer(io::Buffer<float>(std::vector<float>(centroids.values().begin(), centroids.values().end())), centroids.cols()) {}

    [[nodiscard]] std::size_t nlist() const noexcept { return nlist_; }
    [[nodiscard]] std::size_t dimension() const noexcept { return dim_; }
    [[nodiscard]] bool empty() const noexcept { return nlist_ == 0; }
    [[nodiscard]] const float* centroid(std::size_t c) const noexcept { return centroids_.data() + c * dim_; }
    [[nodiscard]] const io::Buffer<float>& centroids() const noexcept { return centroids_; }
    [[nodiscard]] DenseMatrixView<const float> centroid_matrix() const noexcept { return {centroids_.data(), nlist_, dim_, dim_}; }
    [[nodiscard]] std::size_t memory_bytes() const noexcept {
        return (centroids_.is_mapped() ? 0 : centroids_.size_bytes()) + norms_.size() * 4 + panels_.size() * 4;
    }

    /// The nprobe cells nearest to x, best first (Probe::dot = <x, centroid>). The span lives in `s`.
    std::span<const Probe> probe(const float* x, std::size_t nprobe, Scratch& s) const {
        nprobe = std::min(nprobe, nlist_);
        s.dots.resize(padded_);
        s.scores.resize(padded_);
        simd::panel_dot(x, 1, dim_, panels_.data(), padded_, dim_, s.dots.data(), padded_);
        for (std::size_t c = 0; c < nlist_; ++c) s.scores[c] = 2.0f * s.dots[c] - norms_[c];
        select_best(nprobe, s);
        s.probes.resize(s.best.size());
        for (std::size_t i = 0; i < s.best.size(); ++i) s.probes[i] = {s.best[i].id, s.dots[s.best[i].id]};
        return s.probes;
    }

    /// The nearest cell of every row (the cell probe(row, 1) returns first), rows split over threads (0 = all).
    [[nodiscard]] std::vector<std::uint32_t> assign(DenseMatrixView<const float> rows, std::size_t threads = 0) const {
        if (rows.cols != dim_) raise(ErrorKind::dimension_mismatch, "CoarseQuantizer: rows have dimension ", rows.cols, ", expected ", dim_);
        std::vector<std::uint32_t> out(rows.rows);
        detail::parallel_for(rows.rows, detail::resolve_threads(threads, rows.rows / 256 + 1), [&](std::size_t b, std::size_t e, std::size_t) {
            Scratch s;
            for (std::size_t i = b; i < e; ++i) out[i] = probe(rows.row_data(i), 1, s)[0].list;
        });
        return out;
    }

    /// out = x - centroid(list) (the residual PQ encodes).
    void residual(const float* x, std::uint32_t list, float* out) const noexcept {
        const float* c = centroid(list);
        for (std::size_t j = 0; j < dim_; ++j) out[j] = x[j] - c[j];
    }

private:
    /// s.best = the nprobe best scores (higher first, ties to the smaller list id), without a heap: the maxima of
    /// groups of g cells give a bar (the nprobe-th largest maximum) that at least nprobe scores reach, so the
    /// nprobe best are among the scores >= bar (usually 1-3 x nprobe of them), which are then sorted.
    void select_best(std::size_t nprobe, Scratch& s) const {
        std::size_t g = 16;
        while (g > 1 && nlist_ / g < nprobe) g /= 2;
        s.group_max.clear();
        for (std::size_t b = 0; b < nlist_; b += g) {
            float m = s.scores[b];
            for (std::size_t c = b + 1; c < std::min(nlist_, b + g); ++c) m = s.scores[c] > m ? s.scores[c] : m;
            s.group_max.push_back(m);
        }
        std::nth_element(s.group_max.begin(), s.group_max.begin() + static_cast<std::ptrdiff_t>(nprobe - 1), s.group_max.end(), std::greater<>{});
        const float bar = s.group_max[nprobe - 1];
        s.best.clear();
        for (std::size_t c = 0; c < nlist_; ++c)
            if (s.scores[c] >= bar) s.best.push_back({static_cast<std::uint32_t>(c), s.scores[c]});
        std::partial_sort(s.best.begin(), s.best.begin() + static_cast<std::ptrdiff_t>(nprobe), s.best.end(), RanksBefore{});
        s.best.resize(nprobe);
    }

    io::Buffer<float> centroids_;
    std::vector<float> norms_;
    aligned_vector<float> panels_;  // the centroids packed 16 per panel (simd::pack_panels), rebuilt on construction
    std::size_t padded_ = 0;
    std::size_t dim_ = 0;
    std::size_t nlist_ = 0;
};

}  // namespace sparsedense
