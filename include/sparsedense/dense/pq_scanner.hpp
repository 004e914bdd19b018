// sparsedense/dense/pq_scanner.hpp
//
// PqScanner: scores the PQ codes of one inverted list against a query by asymmetric distance computation (ADC,
// Jégou, Douze & Schmid, "Product quantization for nearest neighbor search", TPAMI 2011), as FAISS's
// InvertedListScanner does for IndexIVFPQ. The distance of a query q to a code is a sum of m table entries, one
// per sub-space; the tables (LUTs) are computed once per query, or once per list when they depend on the list.
//   * nbits = 8: float LUTs (m x 256), one lookup per sub-space and code (scan_adc).
//   * nbits = 4: "fast-scan" (André, Kermarrec & Le Scouarnec, VLDB 2015): the m x 16 LUT is quantized to u8 so a
//     byte shuffle looks up 32 codes at once (simd::fast_scan_kernel); u16 sums are compared with a bar derived
//     from the candidate heap, and only codes under it are converted back to floats and offered to the heap.
//   * LUT per list: with inner product (and cosine), <q, c + r> = <q, c> + <q, r>: the LUT of <q, r> is shared by
//     all lists and a list only adds the constant -<q, c>. For squared L2 on residuals the residual query q - c
//     gives one LUT per list. Without residuals the LUT is shared and the constant is 0.
// Scores pushed to the candidate collector are negated distances (higher is better). The `accept` callable of
// scan() (the index's filter on internal ids) is tested before a candidate enters the heap; a filter type with
// accepts_all = true compiles the test away.
// The candidates go to a CandidateBuffer rather than a heap: at the 0.90-recall operating points (16 lists, 40
// candidates on glove-100) a heap push per code under the bar was a third of the query (perf: TopKCollector::push
// 17%, the scan loop around it 13%); an append and an occasional nth_element cost a fraction of that.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "sparsedense/core/top_k_collector.hpp"
#include "sparsedense/dense/product_quantizer.hpp"
#include "sparsedense/simd/pq_kernels.hpp"

namespace sparsedense {

/// The k best (id, score) hits of a scan without a heap: a hit that clears the bar is appended; when 2k are held the
/// k best are kept (nth_element) and the bar rises to the k-th best. finalize() gives exactly what a TopKCollector
/// fed the same hits gives (RanksBefore: higher score first, ties to the smaller id).
class CandidateBuffer {
public:
    using result_type = SearchResult<std::uint32_t, float>;

    void reset(std::size_t k) {
        k_ = std::max<std::size_t>(k, 1);
        hits_.clear();
        hits_.reserve(std::min<std::size_t>(2 * k_, 8192));
        bar_ = std::numeric_limits<float>::lowest();
        full_ = false;
    }
    /// Whether a bar exists (k hits are known to reach it).
    [[nodiscard]] bool full() const noexcept { return full_; }
    [[nodiscard]] float threshold() const noexcept { return bar_; }
    [[nodiscard]] bool would_enter(float score) const noexcept { return score >= bar_; }
    void push(std::uint32_t id, float score) {
        hits_.push_back({id, score});
        if (hits_.size() >= 2 * k_) keep_best();
    }
    /// The kept hits, best first (the buffer must be reset before reuse).
    std::span<const result_type> finalize() {
        if (hits_.size() > k_) keep_best();
        std::sort(hits_.begin(), hits_.end(), RanksBefore{});
        return hits_;
    }

private:
    void keep_best() {
        std::nth_element(hits_.begin(), hits_.begin() + static_cast<std::ptrdiff_t>(k_ - 1), hits_.end(), RanksBefore{});
        hits_.resize(k_);
        bar_ = hits_[k_ - 1].score;  // the k-th best; everything kept ranks at or before it
        full_ = true;
    }

    std::size_t k_ = 1;
    std::vector<result_type> hits_;
    float bar_ = std::numeric_limits<float>::lowest();
    bool full_ = false;
};

class PqScanner {
public:
    using Candidates = CandidateBuffer;

    /// Prepares the scanner for a query (already normalized / rotated). Reuses its buffers across queries.
    void set_query(const ProductQuantizer& pq, const float* q, bool l2, bool by_residual) {
        pq_ = &pq;
        q_ = q;
        l2_ = l2;
        by_residual_ = by_residual;
        shared_lut_ = !l2 || !by_residual;
        lut_.resize(pq.m() * pq.ksub());
        residual_.resize(pq.dimension());
        if (shared_lut_) build_lut(q, true);
    }

    /// Prepares the scan of one list: its centroid and <q, centroid> (from the coarse quantizer). `for_scan` = false
    /// prepares code_distance() only (the float LUT, not the quantized one).
    void set_list(const float* centroid, float coarse_dot, bool for_scan = true) {
        constant_ = 0.0f;
        if (!shared_lut_) {
            for (std::size_t j = 0; j < residual_.size(); ++j) residual_[j] = q_[j] - centroid[j];
            build_lut(residual_.data(), for_scan);
        } else if (by_residual_) {
            constant_ = -coarse_dot;  // IP: distance = -<q, c> - <q, r>
        }
    }

    /// Offers the n codes of the current list (ids[i] their internal ids) to `candidates`.
    template <class Accept>
    void scan(const std::uint8_t* codes, const std::uint32_t* ids, std::size_t n, Candidates& candidates, const Accept& accept) {
        if (n == 0) return;
        if (pq_->nbits() == 4) scan_fast(codes, ids, n, candidates, accept);
        else scan_adc(codes, ids, n, candidates, accept);
    }

    /// Float-LUT distance (lower is better) of one unpacked code of the current list, constant included.
    [[nodiscard]] float code_distance(const std::uint8_t* code) const noexcept { return constant_ + pq_->adc(lut_.data(), code); }

private:
    void build_lut(const float* x, bool quantize) {
        pq_->compute_lut(x, l2_, lut_.data());
        if (quantize && pq_->nbits() == 4) pq_->quantize_lut(lut_.data(), qlut_);
    }

    template <class Accept>
    void scan_fast(const std::uint8_t* codes, const std::uint32_t* ids, std::size_t n, Candidates& candidates, const Accept& accept) {
        const std::size_t nb = (n + 31) / 32;
        sums_.resize(nb * 32);
        masks_.resize(nb);
        const float base = constant_ + qlut_.bias, scale = qlut_.scale;
        // u16 bar from the current candidate threshold (conservative: rounds up; exact check on push)
        std::uint16_t thr = 0xFFFF;
        if (candidates.full()) {
            const float t = (-candidates.threshold() - base) * scale;
            if (t < 0.0f) return;
            thr = t >= 65535.0f ? std::uint16_t{0xFFFF} : static_cast<std::uint16_t>(std::ceil(t));
        }
        pq_->fast_scan(codes, nb, qlut_, thr, sums_.data(), masks_.data());
        const float inv = 1.0f / scale;
        for (std::size_t b = 0; b < nb; ++b) {
            std::uint32_t mask = masks_[b];
            if (b + 1 == nb && n % 32) mask &= (1u << (n % 32)) - 1u;
            while (mask) {
                const std::size_t j = static_cast<std::size_t>(__builtin_ctz(mask));
                mask &= mask - 1;
                const std::size_t pos = b * 32 + j;
                const float sc = -(base + static_cast<float>(sums_[pos]) * inv);
                if (candidates.would_enter(sc)) {
                    if constexpr (!Accept::accepts_all)
                        if (!accept(ids[pos])) continue;
                    candidates.push(ids[pos], sc);
                }
            }
        }
    }

    template <class Accept>
    void scan_adc(const std::uint8_t* codes, const std::uint32_t* ids, std::size_t n, Candidates& candidates, const Accept& accept) const {
        const std::size_t m = pq_->m();
        const float* lut = lut_.data();
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint8_t* c = codes + i * m;
            float d0 = 0.0f, d1 = 0.0f, d2 = 0.0f, d3 = 0.0f;
            std::size_t sub = 0;
            for (; sub + 4 <= m; sub += 4) {
                d0 += lut[sub * 256 + c[sub]];
                d1 += lut[(sub + 1) * 256 + c[sub + 1]];
                d2 += lut[(sub + 2) * 256 + c[sub + 2]];
                d3 += lut[(sub + 3) * 256 + c[sub + 3]];
            }
            for (; sub < m; ++sub) d0 += lut[sub * 256 + c[sub]];
            const float sc = -(constant_ + ((d0 + d1) + (d2 + d3)));
            if (candidates.would_enter(sc)) {
                if constexpr (!Accept::accepts_all)
                    if (!accept(ids[i])) continue;
                candidates.push(ids[i], sc);
            }
        }
    }

    const ProductQuantizer* pq_ = nullptr;
    const float* q_ = nullptr;
    bool l2_ = false, by_residual_ = true, shared_lut_ = true;
    float constant_ = 0.0f;
    std::vector<float> lut_, residual_;
    QuantizedLut qlut_;
    std::vector<std::uint16_t> sums_;
    std::vector<std::uint32_t> masks_;
};

}  // namespace sparsedense
