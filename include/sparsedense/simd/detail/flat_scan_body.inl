// sparsedense/simd/detail/flat_scan_body.inl -- no include guard on purpose.
//
// The flat-scan kernels (simd/detail/flat_scan_table.hpp), written once against the register abstraction `V` of
// kernel_body.inl (included just before this file, inside each level's namespace and target region).
//   stream_rows  one query against contiguous rows, row after row in address order, the per-row dot() / l2_squared()
//                inlined (no call through the table per row). Address order keeps the hardware prefetcher on one
//                stream; software prefetch 512 B - 8 KiB ahead (T0, T1 or NTA) measured 0-20% slower than none on
//                Zen 4 at d = 100 and d = 768, so there is none.
//   i16_i8_rows  int16 query . int8 rows: codes widened to int16 and multiplied pairwise into int32 lanes (vpmaddwd:
//                32 values per step, a third of the instructions of widening to f32), flushed to f32 every 2,048
//                values so no int32 lane can overflow (|q| <= 32767, |c| <= 127: 64 products per lane per flush).
//                Levels without V::madd_i8 (SSE) use the scalar loop.

template <bool L2, class T>
inline void stream_rows(const float* q, const T* rows, std::size_t count, std::size_t dim, float* out) noexcept {
    for (std::size_t r = 0; r < count; ++r) out[r] = L2 ? l2_squared(q, rows + r * dim, dim) : dot(q, rows + r * dim, dim);
}
template <class T>
inline void stream_dot(const float* q, const T* rows, std::size_t count, std::size_t dim, float* out) noexcept {
    stream_rows<false, T>(q, rows, count, dim, out);
}
template <class T>
inline void stream_l2(const float* q, const T* rows, std::size_t count, std::size_t dim, float* out) noexcept {
    stream_rows<true, T>(q, rows, count, dim, out);
}

template <class VV>
inline constexpr bool has_int16_madd = requires(const std::int16_t* q, const std::int8_t* c) { VV::madd_i8(q, c, VV::zero_i()); };

template <class VV>
inline void i16_i8_rows(const std::int16_t* q, const std::int8_t* rows, std::size_t count, std::size_t dim, float* out) noexcept {
    if constexpr (has_int16_madd<VV>) {
        constexpr std::size_t W2 = 2 * VV::W;  // int8 values per step
        constexpr std::size_t kFlush = 2048;
        for (std::size_t r = 0; r < count; ++r) {
            const std::int8_t* row = rows + r * dim;
            typename VV::F total = VV::zero();
            for (std::size_t start = 0; start < dim; start += kFlush) {
                const std::size_t stop = start + kFlush < dim ? start + kFlush : dim;
                auto s0 = VV::zero_i(), s1 = VV::zero_i();
                std::size_t i = start;
                for (; i + 2 * W2 <= stop; i += 2 * W2) {
                    s0 = VV::madd_i8(q + i, row + i, s0);
                    s1 = VV::madd_i8(q + i + W2, row + i + W2, s1);
                }
                for (; i + W2 <= stop; i += W2) s0 = VV::madd_i8(q + i, row + i, s0);
                if (i < stop) s1 = VV::madd_i8_partial(q + i, row + i, stop - i, s1);
                total = VV::add(total, VV::i_to_f(VV::add_i(s0, s1)));
            }
            out[r] = VV::reduce(total);
        }
    } else {
        for (std::size_t r = 0; r < count; ++r) {
            std::int64_t s = 0;
            for (std::size_t i = 0; i < dim; ++i) s += static_cast<std::int32_t>(q[i]) * rows[r * dim + i];
            out[r] = static_cast<float>(s);
        }
    }
}

/// panel_block: queries x rows packed in panels of 16 (simd::pack_panels), the GEMM-like batch kernel. A register
/// block holds panel_queries queries x panel_vectors registers of rows (AVX-512: 12 x 32 rows in 24 accumulators);
/// per dimension it loads panel_vectors row registers and broadcasts one value per query, so each row value loaded
/// feeds panel_queries FMAs and no horizontal reduction is needed (the accumulators are 16 rows' scores). Tail
/// queries repeat the last one (computed, not stored).
/// One register block: QB queries (all valid) x RV registers of W rows starting at packed row r0.
template <bool L2, std::size_t RV, std::size_t QB>
inline void panel_rows(const float* queries, std::size_t q_stride, const float* panels, std::size_t r0, std::size_t dim, float* out,
                       std::size_t out_stride) noexcept {
    using F = typename V::F;
    constexpr std::size_t W = V::W, kPanel = 16;
    const float* base[RV];
    for (std::size_t v = 0; v < RV; ++v) {
        const std::size_t r = r0 + v * W;
        base[v] = panels + (r / kPanel) * kPanel * dim + r % kPanel;
    }
    F acc[QB][RV];
#pragma GCC unroll 16
    for (std::size_t a = 0; a < QB; ++a)
#pragma GCC unroll 4
        for (std::size_t v = 0; v < RV; ++v) acc[a][v] = V::zero();
    for (std::size_t j = 0; j < dim; ++j) {
        F rv[RV];
#pragma GCC unroll 4
        for (std::size_t v = 0; v < RV; ++v) rv[v] = V::load(base[v] + j * kPanel);
#pragma GCC unroll 16
        for (std::size_t a = 0; a < QB; ++a) {
            const F qv = V::set1(queries[a * q_stride + j]);
#pragma GCC unroll 4
            for (std::size_t v = 0; v < RV; ++v) acc[a][v] = accumulate<L2>(qv, rv[v], acc[a][v]);
        }
    }
#pragma GCC unroll 16
    for (std::size_t a = 0; a < QB; ++a)
#pragma GCC unroll 4
        for (std::size_t v = 0; v < RV; ++v) V::store(out + a * out_stride + r0 + v * W, acc[a][v]);
}

/// nq (a multiple of QB) queries against nr (a multiple of 16) packed rows: RV-register blocks, then single registers.
template <bool L2, std::size_t RV, std::size_t QB>
inline void panel_queries(const float* queries, std::size_t nq, std::size_t q_stride, const float* panels, std::size_t nr,
                          std::size_t dim, float* out, std::size_t out_stride) noexcept {
    constexpr std::size_t W = V::W;
    std::size_t r0 = 0;
    for (; r0 + RV * W <= nr; r0 += RV * W)
        for (std::size_t q0 = 0; q0 < nq; q0 += QB)
            panel_rows<L2, RV, QB>(queries + q0 * q_stride, q_stride, panels, r0, dim, out + q0 * out_stride, out_stride);
    for (; r0 < nr; r0 += W)
        for (std::size_t q0 = 0; q0 < nq; q0 += QB)
            panel_rows<L2, 1, QB>(queries + q0 * q_stride, q_stride, panels, r0, dim, out + q0 * out_stride, out_stride);
}

/// panel_block: queries x rows packed in panels of 16 (simd::pack_panels), the GEMM-like batch kernel. A register
/// block holds panel_queries queries x panel_vectors registers of rows (AVX-512: 12 x 32 rows in 24 accumulators);
/// per dimension it loads panel_vectors row registers and broadcasts one value per query, so each row value loaded
/// feeds panel_queries FMAs and no horizontal reduction is needed (the accumulators are 16 rows' scores). The
/// queries past the last full block go one at a time against 4 row registers (4 independent FMA chains): the
/// single-query form used by the IVF coarse quantizer.
template <bool L2>
inline void panel_block(const float* queries, std::size_t nq, std::size_t q_stride, const float* panels, std::size_t nr,
                        std::size_t dim, float* out, std::size_t out_stride) noexcept {
    constexpr std::size_t QB = V::panel_queries;
    static_assert(16 % V::W == 0, "a row register must tile the 16-row panels");
    const std::size_t full = nq / QB * QB;
    panel_queries<L2, V::panel_vectors, QB>(queries, full, q_stride, panels, nr, dim, out, out_stride);
    for (std::size_t i = full; i < nq; ++i)
        panel_queries<L2, 4, 1>(queries + i * q_stride, 1, q_stride, panels, nr, dim, out + i * out_stride, out_stride);
}

template <class T>
inline void widen(const T* in, std::size_t n, float* out) noexcept {
    std::size_t i = 0;
    for (; i + V::W <= n; i += V::W) V::store(out + i, V::load(in + i));
    for (; i < n; ++i) out[i] = to_float(in[i]);
}

inline constexpr FlatScanKernels flat_scan_kernels{&stream_dot<float>, &stream_dot<float16>, &stream_dot<bfloat16>,
                                                   &stream_l2<float>,  &stream_l2<float16>,  &stream_l2<bfloat16>,
                                                   &i16_i8_rows<V>, &panel_block<false>, &panel_block<true>,
                                                   &widen<float16>, &widen<bfloat16>};
