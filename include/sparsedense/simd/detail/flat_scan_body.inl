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

inline constexpr FlatScanKernels flat_scan_kernels{&stream_dot<float>, &stream_dot<float16>, &stream_dot<bfloat16>,
                                                   &stream_l2<float>,  &stream_l2<float16>,  &stream_l2<bfloat16>,
                                                   &i16_i8_rows<V>};
