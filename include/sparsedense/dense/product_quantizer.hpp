// sparsedense/dense/product_quantizer.hpp
//
// ProductQuantizer (Jégou, Douze & Schmid, "Product quantization for nearest neighbor search", TPAMI 2011): the
// d dimensions are split into M contiguous sub-spaces (sizes differ by at most one when M does not divide d), each
// with its own codebook of 2^nbits centroids learned by k-means. A vector is stored as M codes (nbits each), and a
// query is compared with a code by asymmetric distance computation (ADC): one lookup table (LUT) per query holds
// the distance (or inner product) of each query sub-vector to each centroid, and a code's score is the sum of M
// table entries.
//   nbits = 8: 256 centroids per sub-space, float LUTs (M x 256 floats, L1-resident), one byte per code.
//   nbits = 4: 16 centroids per sub-space, so the LUT of a sub-space fits a 16-byte register lane. Codes are
//              re-packed in blocks of 32 vectors and scanned with byte shuffles on LUTs quantized to u8
//              ("fast-scan", André et al., VLDB 2015; see simd/pq_kernels.hpp). quantize_lut() maps the
//              float LUT to u8 with a per-sub-space offset and one global scale chosen so that the total of M
//              entries fits u16; the approximation error per code is at most M / (2 scale).
// Scores here are "lower is better" distances: squared L2, or the negated inner product for IP. The indexes turn
// them back into the library's higher-is-better scores.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "sparsedense/core/progress.hpp"
#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/core/validation.hpp"
#include "sparsedense/core/parallel.hpp"
#include "sparsedense/dense/kmeans.hpp"
#include "sparsedense/io/binary_format.hpp"
#include "sparsedense/simd/dense_kernels.hpp"
#include "sparsedense/simd/pq_kernels.hpp"

namespace sparsedense {

struct ProductQuantizerParams {
    std::size_t m = 16;                        ///< number of sub-quantizers (code length: m * nbits bits)
    std::size_t nbits = 8;                     ///< 4 (fast-scan) or 8 (float-LUT ADC)
    std::size_t iterations = 20;               ///< k-means iterations per sub-space
    std::size_t max_training_points = 65536;   ///< training sample (0 = all)
    std::uint64_t seed = 4321;
    std::size_t threads = 0;
    ProgressCallback progress{};               ///< one report per trained sub-space (stage "train_pq")
};

/// A LUT quantized to u8 for the fast-scan kernels: value(code) ~ bias + sum_m table[m][code_m] / scale.
struct QuantizedLut {
    std::vector<std::uint8_t> table;  ///< pairs * 32 bytes (16 per sub-quantizer, padding sub-quantizer zero)
    float bias = 0.0f;                ///< sum of the per-sub-space minima
    float scale = 1.0f;               ///< u8 units per distance unit
};

class ProductQuantizer {
public:
    ProductQuantizer() = default;
    ProductQuantizer(std::size_t dimension, std::size_t m, std::size_t nbits) : dim_(dimension), m_(m), nbits_(nbits) {
        if (dimension == 0) raise(ErrorKind::invalid_argument, "product quantizer: dimension must be > 0");
        if (m == 0 || m > dimension) raise(ErrorKind::invalid_argument, "product quantizer: m = ", m, " must be in [1, dimension = ", dimension, "]");
        if (nbits != 4 && nbits != 8) raise(ErrorKind::invalid_argument, "product quantizer: nbits must be 4 or 8, got ", nbits);
        if (nbits == 4 && m > 256) raise(ErrorKind::invalid_argument, "product quantizer: 4-bit fast-scan supports m <= 256, got ", m);
        offsets_.resize(m + 1);
        for (std::size_t i = 0; i <= m; ++i) offsets_[i] = i * dimension / m;
    }

    [[nodiscard]] std::size_t dimension() const noexcept { return dim_; }
    [[nodiscard]] std::size_t m() const noexcept { return m_; }
    [[nodiscard]] std::size_t nbits() const noexcept { return nbits_; }
    [[nodiscard]] std::size_t ksub() const noexcept { return std::size_t{1} << nbits_; }
    [[nodiscard]] bool trained() const noexcept { return !codebooks_.empty(); }
    /// Bytes of one packed code (m * nbits / 8, rounded up; m rounded up to even for 4 bits).
    [[nodiscard]] std::size_t code_bytes() const noexcept { return nbits_ == 8 ? m_ : simd::fast_scan_layout::pairs_for(m_); }
    [[nodiscard]] std::size_t sub_begin(std::size_t s) const noexcept { return offsets_[s]; }
    [[nodiscard]] std::size_t sub_dim(std::size_t s) const noexcept { return offsets_[s + 1] - offsets_[s]; }
    /// Centroid c of sub-space s (sub_dim(s) floats).
    [[nodiscard]] const float* centroid(std::size_t s, std::size_t c) const noexcept {
        return codebooks_.data() + (offsets_[s] * ksub()) + c * sub_dim(s);
    }
    [[nodiscard]] std::span<const float> codebooks() const noexcept { return codebooks_.span(); }
    /// True when the codebooks are a view into a mapped index file (the transposed copy is always owned).
    [[nodiscard]] bool codebooks_mapped() const noexcept { return codebooks_.is_mapped(); }
    void set_codebooks(std::span<const float> values) { set_codebooks(io::Buffer<float>(std::vector<float>(values.begin(), values.end()))); }
    /// Adopts codebooks as they are (owned, or mapped from a file: kept in place, zero copy).
    void set_codebooks(io::Buffer<float> values) {
        if (values.size() != dim_ * ksub()) raise(ErrorKind::corrupt_file, "product quantizer: codebooks have ", values.size(), " values, expected ", dim_ * ksub());
        codebooks_ = std::move(values);
        build_transposed();
    }

    /// Learns the M codebooks with k-means on (a sample of) the rows.
    void train(DenseMatrixView<const float> data, const ProductQuantizerParams& params = {}) {
        validate_dimension(dim_, data.cols, "product quantizer training data");
        const std::size_t k = ksub();
        if (data.rows < k) raise(ErrorKind::invalid_argument, "product quantizer: ", data.rows, " training points for ", k, " centroids");
        std::size_t n = data.rows;
        if (params.max_training_points && n > params.max_training_points) n = params.max_training_points;
        // sample: evenly strided rows (deterministic, spread over the whole input)
        std::vector<std::size_t> rows(n);
        for (std::size_t i = 0; i < n; ++i) rows[i] = i * data.rows / n;
        std::vector<float> cb(dim_ * k);
        ProgressReporter progress(params.progress, "train_pq", m_, m_);
        detail::parallel_for(m_, params.threads, [&](std::size_t s0, std::size_t s1, std::size_t) {
            for (std::size_t s = s0; s < s1; ++s) {
                const std::size_t ds = sub_dim(s), off = offsets_[s];
                DenseMatrix<float> sub(n, ds);
                for (std::size_t i = 0; i < n; ++i) std::copy_n(data.row_data(rows[i]) + off, ds, sub.row(i).data());
                KMeansParams kp;
                kp.k = k;
                kp.iterations = params.iterations;
                kp.max_points_per_centroid = 0;
                kp.seed = params.seed + 7919 * s;
                kp.threads = 1;
                KMeans km(kp);
                km.train(sub.view());
                std::copy_n(km.centroids().data(), k * ds, cb.data() + off * k);
                progress.advance();
            }
        });
        progress.finish();
        codebooks_ = io::Buffer<float>(std::move(cb));
        build_transposed();
    }

    /// Nearest-centroid code of one vector: codes[m] (one byte per sub-quantizer, unpacked). The squared distances
    /// to every centroid come from the L2 lookup table of x (SIMD), then an argmin per sub-space (ties: smaller code).
    void encode(const float* x, std::uint8_t* codes) const {
        static thread_local std::vector<float> lut;
        const std::size_t k = ksub();
        lut.resize(m_ * k);
        compute_lut(x, true, lut.data());
        for (std::size_t s = 0; s < m_; ++s) {
            const float* t = lut.data() + s * k;
            float best = t[0];
            std::size_t arg = 0;
            for (std::size_t c = 1; c < k; ++c)
                if (t[c] < best) {
                    best = t[c];
                    arg = c;
                }
            codes[s] = static_cast<std::uint8_t>(arg);
        }
    }
    /// Encodes every row into n x m unpacked codes.
    [[nodiscard]] std::vector<std::uint8_t> encode(DenseMatrixView<const float> data, std::size_t threads = 1) const {
        require_trained();
        validate_dimension(dim_, data.cols, "encoded vectors");
        std::vector<std::uint8_t> codes(data.rows * m_);
        detail::parallel_for(data.rows, threads, [&](std::size_t b, std::size_t e, std::size_t) {
            for (std::size_t i = b; i < e; ++i) encode(data.row_data(i), codes.data() + i * m_);
        });
        return codes;
    }
    /// Reconstruction of an unpacked code.
    void decode(const std::uint8_t* codes, float* x) const noexcept {
        for (std::size_t s = 0; s < m_; ++s) std::copy_n(centroid(s, codes[s]), sub_dim(s), x + offsets_[s]);
    }

    /// Float LUT (m x ksub, row-major) of "lower is better" distances: squared L2 per sub-space (l2 = true) or the
    /// negated inner product (l2 = false).
    void compute_lut(const float* query, bool l2, float* lut) const noexcept {
        simd::pq_lut(query, transposed_.data(), offsets_.data(), m_, ksub(), centroid_norms_.data(), l2, lut);
    }

    /// ADC: sum of the LUT entries of an unpacked code.
    [[nodiscard]] float adc(const float* lut, const std::uint8_t* codes) const noexcept {
        const std::size_t k = ksub();
        float s = 0.0f;
        for (std::size_t i = 0; i < m_; ++i) s += lut[i * k + codes[i]];
        return s;
    }

    /// Quantizes a 4-bit float LUT (m x 16) to u8 for the fast-scan kernels (see QuantizedLut).
    void quantize_lut(const float* lut, QuantizedLut& out) const {
        const std::size_t bytes = simd::fast_scan_layout::pairs_for(m_) * 32;
        if (out.table.size() != bytes) out.table.assign(bytes, 0);  // the padding sub-quantizer stays zero
        simd::quantize_pq_lut(lut, m_, out.table.data(), out.bias, out.scale);
    }

    /// Packs n unpacked 4-bit codes (n x m) into fast-scan blocks (ceil(n / 32) blocks; missing vectors code 0).
    [[nodiscard]] std::vector<std::uint8_t> pack_fast_scan(std::span<const std::uint8_t> codes, std::size_t n) const {
        if (nbits_ != 4) raise(ErrorKind::invalid_argument, "product quantizer: fast-scan packing needs nbits = 4");
        if (codes.size() != n * m_) raise(ErrorKind::dimension_mismatch, "product quantizer: ", codes.size(), " codes for ", n, " vectors");
        const std::size_t nb = (n + 31) / 32, bb = simd::fast_scan_layout::block_bytes(m_);
        std::vector<std::uint8_t> packed(nb * bb, 0);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t s = 0; s < m_; ++s) simd::fast_scan_layout::set_code(packed.data() + (i / 32) * bb, i % 32, s, codes[i * m_ + s]);
        return packed;
    }

    /// Fast-scan of `nblocks` packed blocks with a quantized LUT: out[32 * nblocks] u16 sums, masks[nblocks] with
    /// bit j set where the sum is <= threshold. Uses the kernel of the active SIMD level.
    void fast_scan(const std::uint8_t* packed, std::size_t nblocks, const QuantizedLut& lut, std::uint16_t threshold,
                   std::uint16_t* out, std::uint32_t* masks) const noexcept {
        simd::fast_scan_kernel()(packed, nblocks, simd::fast_scan_layout::pairs_for(m_), lut.table.data(), threshold, out, masks);
    }

private:
    void require_trained() const {
        if (!trained()) raise(ErrorKind::invalid_argument, "product quantizer: not trained");
    }

    std::size_t dim_ = 0, m_ = 0, nbits_ = 8;
    std::vector<std::size_t> offsets_;
    void build_transposed() {
        const std::size_t k = ksub();
        transposed_.assign(dim_ * k, 0.0f);
        centroid_norms_.assign(m_ * k, 0.0f);
        for (std::size_t s = 0; s < m_; ++s)
            for (std::size_t c = 0; c < k; ++c) {
                const float* cc = centroid(s, c);
                float n2 = 0.0f;
                for (std::size_t j = 0; j < sub_dim(s); ++j) {
                    transposed_[(offsets_[s] + j) * k + c] = cc[j];
                    n2 += cc[j] * cc[j];
                }
                centroid_norms_[s * k + c] = n2;
            }
    }

    io::Buffer<float> codebooks_;  // sub-space s: ksub x sub_dim(s) floats starting at offsets_[s] * ksub
    std::vector<float> transposed_;      // d x ksub: row j = dimension j of every centroid of its sub-space
    std::vector<float> centroid_norms_;  // m x ksub squared norms
};

}  // namespace sparsedense
