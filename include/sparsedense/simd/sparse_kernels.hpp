// sparsedense/simd/sparse_kernels.hpp
//
// Sparse products.
//   sparse_dot_dense(ids, values, dense)   sum values[i] * dense[ids[i]]: the query side of term-at-a-time scoring
//                                          and of scoring a sparse query against a dense vector; gathers 16 (AVX-512)
//                                          or 8 (AVX2) dense values per instruction.
//   sparse_dot_sparse(a, b)                inner product of two sorted sparse vectors. A branch-light linear merge
//                                          when the lengths are comparable; when one side is much shorter
//                                          (ratio >= galloping_ratio) each of its ids is found in the longer one by
//                                          exponential + binary search, O(m log(n/m)) instead of O(m + n). The
//                                          stored side may be f32, f16, bf16 or u8/i8 (raw codes; scale outside).
// The merge is scalar at every level (intersection is branch/latency-bound; no VP2INTERSECT on the target CPUs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "sparsedense/core/error.hpp"
#include "sparsedense/core/sparse_vector.hpp"
#include "sparsedense/simd/dispatch.hpp"

namespace sparsedense::simd {

/// Sum over i of values[i] * dense[ids[i]]. The caller guarantees every id < dense length.
inline float sparse_dot_dense(const std::uint32_t* ids, const float* values, std::size_t n, const float* dense) noexcept {
    return kernels().sparse_dot_dense(ids, values, n, dense);
}

/// Checked form: throws Error if a term id is beyond the dense vector.
inline float sparse_dot_dense(SparseVectorView<float> sparse, std::span<const float> dense) {
    if (sparse.ids.size() != sparse.values.size())
        raise(ErrorKind::dimension_mismatch, "sparse_dot_dense: ", sparse.ids.size(), " ids but ", sparse.values.size(), " values");
    if (!sparse.ids.empty() && sparse.ids.back() >= dense.size())
        raise(ErrorKind::out_of_range, "sparse_dot_dense: term id ", sparse.ids.back(), " >= dense dimension ", dense.size());
    return sparse_dot_dense(sparse.ids.data(), sparse.values.data(), sparse.size(), dense.data());
}

/// Length ratio from which sparse_dot_sparse switches from merging to galloping.
inline constexpr std::size_t galloping_ratio = 16;

namespace detail {

template <class A, class B>
inline float merge_dot(const std::uint32_t* a_ids, const A* a_values, std::size_t na, const std::uint32_t* b_ids,
                       const B* b_values, std::size_t nb) noexcept {
    float s = 0.0f;
    std::size_t i = 0, j = 0;
    while (i < na && j < nb) {
        const std::uint32_t x = a_ids[i], y = b_ids[j];
        if (x == y) s += to_float(a_values[i]) * to_float(b_values[j]);
        i += x <= y;
        j += y <= x;
    }
    return s;
}

/// Every id of the short side looked up in the long side by galloping from the last match.
template <class A, class B>
inline float galloping_dot(const std::uint32_t* s_ids, const A* s_values, std::size_t ns, const std::uint32_t* l_ids,
                           const B* l_values, std::size_t nl, bool short_is_first) noexcept {
    float s = 0.0f;
    std::size_t lo = 0;
    for (std::size_t i = 0; i < ns && lo < nl; ++i) {
        const std::uint32_t target = s_ids[i];
        // exponential search for the first position >= target, starting at lo
        std::size_t step = 1, hi = lo;
        while (hi < nl && l_ids[hi] < target) {
            lo = hi + 1;
            hi += step;
            step <<= 1;
        }
        if (hi > nl) hi = nl;
        // binary search in [lo, hi)
        while (lo < hi) {
            const std::size_t mid = lo + (hi - lo) / 2;
            if (l_ids[mid] < target) lo = mid + 1;
            else hi = mid;
        }
        if (lo < nl && l_ids[lo] == target) {
            const float product = short_is_first ? to_float(s_values[i]) * to_float(l_values[lo]) : to_float(l_values[lo]) * to_float(s_values[i]);
            s += product;
            ++lo;
        }
    }
    return s;
}

}  // namespace detail

/// Inner product of two sparse vectors with sorted ids (any value types convertible by to_float).
template <class A, class B>
inline float sparse_dot_sparse(const std::uint32_t* a_ids, const A* a_values, std::size_t na, const std::uint32_t* b_ids,
                               const B* b_values, std::size_t nb) noexcept {
    if (na == 0 || nb == 0) return 0.0f;
    if (na * galloping_ratio <= nb) return detail::galloping_dot(a_ids, a_values, na, b_ids, b_values, nb, true);
    if (nb * galloping_ratio <= na) return detail::galloping_dot(b_ids, b_values, nb, a_ids, a_values, na, false);
    return detail::merge_dot(a_ids, a_values, na, b_ids, b_values, nb);
}

template <class A, class B>
inline float sparse_dot_sparse(SparseVectorView<A> a, SparseVectorView<B> b) noexcept {
    return sparse_dot_sparse(a.ids.data(), a.values.data(), a.size(), b.ids.data(), b.values.data(), b.size());
}

/// Scalar references (exposed for tests).
template <class A, class B>
inline float sparse_dot_sparse_reference(SparseVectorView<A> a, SparseVectorView<B> b) noexcept {
    return detail::merge_dot(a.ids.data(), a.values.data(), a.size(), b.ids.data(), b.values.data(), b.size());
}

}  // namespace sparsedense::simd
