// sparsedense/simd/detail/kernel_body.inl -- no include guard on purpose.
//
// The float kernels written once against a small register abstraction `V` and included by each ISA header inside
// its own namespace and `#pragma GCC target` region, so every level gets its own machine code from one source.
// V provides: W (floats per register), F (register type), zero(), load(p) and load_partial(p, n) for float,
// float16 and bfloat16 pointers (partial loads zero-fill the lanes past n), fmadd(a, b, c) = a*b + c, sub, add,
// reduce (horizontal sum), and block sizes BQ x BR for the register-blocked many-vs-many kernel.

template <class T>
inline float dot(const float* a, const T* b, std::size_t n) noexcept {
    using F = typename V::F;
    constexpr std::size_t W = V::W;
    F s0 = V::zero(), s1 = V::zero(), s2 = V::zero(), s3 = V::zero();
    std::size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
        s0 = V::fmadd(V::load(a + i), V::load(b + i), s0);
        s1 = V::fmadd(V::load(a + i + W), V::load(b + i + W), s1);
        s2 = V::fmadd(V::load(a + i + 2 * W), V::load(b + i + 2 * W), s2);
        s3 = V::fmadd(V::load(a + i + 3 * W), V::load(b + i + 3 * W), s3);
    }
    for (; i + W <= n; i += W) s0 = V::fmadd(V::load(a + i), V::load(b + i), s0);
    if (i < n) s1 = V::fmadd(V::load_partial(a + i, n - i), V::load_partial(b + i, n - i), s1);
    return V::reduce(V::add(V::add(s0, s1), V::add(s2, s3)));
}

template <class T>
inline float l2_squared(const float* a, const T* b, std::size_t n) noexcept {
    using F = typename V::F;
    constexpr std::size_t W = V::W;
    F s0 = V::zero(), s1 = V::zero(), s2 = V::zero(), s3 = V::zero();
    std::size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
        F d0 = V::sub(V::load(a + i), V::load(b + i));
        F d1 = V::sub(V::load(a + i + W), V::load(b + i + W));
        F d2 = V::sub(V::load(a + i + 2 * W), V::load(b + i + 2 * W));
        F d3 = V::sub(V::load(a + i + 3 * W), V::load(b + i + 3 * W));
        s0 = V::fmadd(d0, d0, s0);
        s1 = V::fmadd(d1, d1, s1);
        s2 = V::fmadd(d2, d2, s2);
        s3 = V::fmadd(d3, d3, s3);
    }
    for (; i + W <= n; i += W) {
        F d = V::sub(V::load(a + i), V::load(b + i));
        s0 = V::fmadd(d, d, s0);
    }
    if (i < n) {
        F d = V::sub(V::load_partial(a + i, n - i), V::load_partial(b + i, n - i));
        s1 = V::fmadd(d, d, s1);
    }
    return V::reduce(V::add(V::add(s0, s1), V::add(s2, s3)));
}

template <bool L2>
inline typename V::F accumulate(typename V::F q, typename V::F r, typename V::F acc) noexcept {
    if constexpr (L2) {
        typename V::F d = V::sub(q, r);
        return V::fmadd(d, d, acc);
    } else {
        return V::fmadd(q, r, acc);
    }
}

/// One query against `count` rows, several rows at a time: four (AVX2) or eight (AVX-512) rows share each query
/// load (9 loads per 8 FMAs instead of 16). Best while the rows come from cache; see ScanHint in dense_kernels.hpp.
template <bool L2, class T>
inline void many(const float* q, const T* rows, std::size_t count, std::size_t dim, std::size_t stride, float* out) noexcept {
    using F = typename V::F;
    constexpr std::size_t W = V::W;
    std::size_t r = 0;
    if constexpr (V::many_rows == 8) {
        // eight rows per pass (9 loads per 8 FMAs) where the register file is large enough (AVX-512: 32 registers)
        for (; r + 8 <= count; r += 8) {
            const T* base = rows + r * stride;
            F s[8];
#pragma GCC unroll 8
            for (std::size_t j = 0; j < 8; ++j) s[j] = V::zero();
            std::size_t i = 0;
            for (; i + W <= dim; i += W) {
                const F qv = V::load(q + i);
#pragma GCC unroll 8
                for (std::size_t j = 0; j < 8; ++j) s[j] = accumulate<L2>(qv, V::load(base + j * stride + i), s[j]);
            }
            if (i < dim) {
                const std::size_t n = dim - i;
                const F qv = V::load_partial(q + i, n);
#pragma GCC unroll 8
                for (std::size_t j = 0; j < 8; ++j) s[j] = accumulate<L2>(qv, V::load_partial(base + j * stride + i, n), s[j]);
            }
#pragma GCC unroll 8
            for (std::size_t j = 0; j < 8; ++j) out[r + j] = V::reduce(s[j]);
        }
    }
    for (; r + 4 <= count; r += 4) {
        const T* r0 = rows + r * stride;
        const T* r1 = r0 + stride;
        const T* r2 = r1 + stride;
        const T* r3 = r2 + stride;
        F s0 = V::zero(), s1 = V::zero(), s2 = V::zero(), s3 = V::zero();
        std::size_t i = 0;
        for (; i + W <= dim; i += W) {
            const F qv = V::load(q + i);
            s0 = accumulate<L2>(qv, V::load(r0 + i), s0);
            s1 = accumulate<L2>(qv, V::load(r1 + i), s1);
            s2 = accumulate<L2>(qv, V::load(r2 + i), s2);
            s3 = accumulate<L2>(qv, V::load(r3 + i), s3);
        }
        if (i < dim) {
            const std::size_t n = dim - i;
            const F qv = V::load_partial(q + i, n);
            s0 = accumulate<L2>(qv, V::load_partial(r0 + i, n), s0);
            s1 = accumulate<L2>(qv, V::load_partial(r1 + i, n), s1);
            s2 = accumulate<L2>(qv, V::load_partial(r2 + i, n), s2);
            s3 = accumulate<L2>(qv, V::load_partial(r3 + i, n), s3);
        }
        out[r] = V::reduce(s0);
        out[r + 1] = V::reduce(s1);
        out[r + 2] = V::reduce(s2);
        out[r + 3] = V::reduce(s3);
    }
    for (; r < count; ++r) out[r] = L2 ? l2_squared(q, rows + r * stride, dim) : dot(q, rows + r * stride, dim);
}

/// BQ queries x BR rows held in BQ*BR accumulators: each loaded register feeds several FMAs.
template <bool L2>
inline void micro_block(const float* q, std::size_t q_stride, const float* r, std::size_t r_stride, std::size_t dim,
                        float* out, std::size_t out_stride) noexcept {
    using F = typename V::F;
    constexpr std::size_t W = V::W, BQ = V::BQ, BR = V::BR;
    F acc[BQ][BR];
#pragma GCC unroll 16
    for (std::size_t a = 0; a < BQ; ++a)
#pragma GCC unroll 16
        for (std::size_t b = 0; b < BR; ++b) acc[a][b] = V::zero();
    std::size_t i = 0;
    for (; i + W <= dim; i += W) {
        F rv[BR];
#pragma GCC unroll 16
        for (std::size_t b = 0; b < BR; ++b) rv[b] = V::load(r + b * r_stride + i);
#pragma GCC unroll 16
        for (std::size_t a = 0; a < BQ; ++a) {
            const F qv = V::load(q + a * q_stride + i);
#pragma GCC unroll 16
            for (std::size_t b = 0; b < BR; ++b) acc[a][b] = accumulate<L2>(qv, rv[b], acc[a][b]);
        }
    }
    if (i < dim) {
        const std::size_t n = dim - i;
        F rv[BR];
#pragma GCC unroll 16
        for (std::size_t b = 0; b < BR; ++b) rv[b] = V::load_partial(r + b * r_stride + i, n);
#pragma GCC unroll 16
        for (std::size_t a = 0; a < BQ; ++a) {
            const F qv = V::load_partial(q + a * q_stride + i, n);
#pragma GCC unroll 16
            for (std::size_t b = 0; b < BR; ++b) acc[a][b] = accumulate<L2>(qv, rv[b], acc[a][b]);
        }
    }
#pragma GCC unroll 16
    for (std::size_t a = 0; a < BQ; ++a)
#pragma GCC unroll 16
        for (std::size_t b = 0; b < BR; ++b) out[a * out_stride + b] = V::reduce(acc[a][b]);
}

/// out[i * out_stride + j] = dot or squared L2 of query i and row j.
template <bool L2>
inline void block(const float* queries, std::size_t nq, std::size_t q_stride, const float* rows, std::size_t nr,
                  std::size_t r_stride, std::size_t dim, float* out, std::size_t out_stride) noexcept {
    constexpr std::size_t BQ = V::BQ, BR = V::BR;
    std::size_t j = 0;
    for (; j + BR <= nr; j += BR) {
        std::size_t i = 0;
        for (; i + BQ <= nq; i += BQ)
            micro_block<L2>(queries + i * q_stride, q_stride, rows + j * r_stride, r_stride, dim, out + i * out_stride + j, out_stride);
        for (; i < nq; ++i) many<L2, float>(queries + i * q_stride, rows + j * r_stride, BR, dim, r_stride, out + i * out_stride + j);
    }
    if (j < nr)
        for (std::size_t i = 0; i < nq; ++i)
            many<L2, float>(queries + i * q_stride, rows + j * r_stride, nr - j, dim, r_stride, out + i * out_stride + j);
}
