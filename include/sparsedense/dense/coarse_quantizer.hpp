// sparsedense/dense/coarse_quantizer.hpp
//
// CoarseQuantizer: the first level of an inverted file (IVF; Sivic & Zisserman 2003, used for ANN search by Jégou,
// Douze & Schmid, "Product quantization for nearest neighbor search", TPAMI 2011, and FAISS's IndexIVF "quantizer").
// nlist centroids learned by k-means partition the space into cells; a vector belongs to the list of its nearest
// centroid, and a query probes the nprobe nearest cells.
//
// One assignment for both uses: a vector x is scored against every centroid c by
//     score(c) = 2 <x, c> - |c|^2          (= |x|^2 - |x - c|^2: higher is nearer in L2)
// with one simd::dot_many over the centroid matrix. assign() (used when adding vectors and when training the PQ on
// residuals) keeps the best cell; probe() (used by search) keeps the nprobe best, best first. The same kernel and
// the same float expression are used in both, so a vector added to the index is found in the first cell its own
// query probes (probe(x, 1) == assign(x), ties to the smaller list id; tested).
//
// The centroids live in an io::Buffer<float>: owned after training, a view into the index file after load (zero
// copy); the centroid norms (nlist floats) are recomputed on construction.
#pragma once

#include <cstddef>
#include <cstdint>
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
        std::vector<float> dots;
        TopKCollector<std::uint32_t, float> top{1};
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
    }
    explicit CoarseQuantizer(const DenseMatrix<float>& centroids)
        : CoarseQuantizer(io::Buffer<float>(std::vector<float>(centroids.values().begin(), centroids.values().end())), centroids.cols()) {}

    [[nodiscard]] std::size_t nlist() const noexcept { return nlist_; }
    [[nodiscard]] std::size_t dimension() const noexcept { return dim_; }
    [[nodiscard]] bool empty() const noexcept { return nlist_ == 0; }
    [[nodiscard]] const float* centroid(std::size_t c) const noexcept { return centroids_.data() + c * dim_; }
    [[nodiscard]] const io::Buffer<float>& centroids() const noexcept { return centroids_; }
    [[nodiscard]] DenseMatrixView<const float> centroid_matrix() const noexcept { return {centroids_.data(), nlist_, dim_, dim_}; }
    [[nodiscard]] std::size_t memory_bytes() const noexcept { return (centroids_.is_mapped() ? 0 : centroids_.size_bytes()) + norms_.size() * 4; }

    /// The nprobe cells nearest to x, best first (Probe::dot = <x, centroid>). The span lives in `s`.
    std::span<const Probe> probe(const float* x, std::size_t nprobe, Scratch& s) const {
        nprobe = std::min(nprobe, nlist_);
        s.dots.resize(nlist_);
        simd::dot_many(x, centroids_.data(), nlist_, dim_, dim_, s.dots.data());
        s.top.reset(nprobe);
        for (std::size_t c = 0; c < nlist_; ++c) {
            const float sc = 2.0f * s.dots[c] - norms_[c];
            if (s.top.would_enter(sc)) s.top.push(static_cast<std::uint32_t>(c), sc);
        }
        const auto best = s.top.finalize();
        s.probes.resize(best.size());
        for (std::size_t i = 0; i < best.size(); ++i) s.probes[i] = {best[i].id, s.dots[best[i].id]};
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
    io::Buffer<float> centroids_;
    std::vector<float> norms_;
    std::size_t dim_ = 0;
    std::size_t nlist_ = 0;
};

}  // namespace sparsedense
