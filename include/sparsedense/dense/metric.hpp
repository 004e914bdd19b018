// sparsedense/dense/metric.hpp
//
// The similarity a dense index ranks by. Every dense index reports "higher score is better" (see
// core/search_result.hpp): inner_product reports <q, x>; cosine normalises stored vectors when they are added and
// the query when it arrives, then reports <q, x> / (|q| |x|); l2 reports the NEGATED squared Euclidean distance
// -|q - x|^2, so sorting by score descending is sorting by distance ascending.
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <string_view>

#include "sparsedense/core/error.hpp"

namespace sparsedense {

enum class Metric { inner_product, l2, cosine };

[[nodiscard]] inline const char* metric_name(Metric metric) noexcept {
    switch (metric) {
        case Metric::inner_product: return "ip";
        case Metric::l2: return "l2";
        case Metric::cosine: return "cosine";
    }
    return "?";
}

/// Parses "ip" / "inner_product", "l2", "cosine" / "angular". Throws Error otherwise.
[[nodiscard]] inline Metric parse_metric(std::string_view name) {
    if (name == "ip" || name == "inner_product" || name == "dot") return Metric::inner_product;
    if (name == "l2" || name == "euclidean") return Metric::l2;
    if (name == "cosine" || name == "angular") return Metric::cosine;
    raise(ErrorKind::invalid_argument, "unknown metric '", name, "' (expected ip, l2 or cosine)");
}

namespace detail {
/// Scales v in place to unit length (a zero vector stays zero). Uses double accumulation for the norm.
inline void normalize_in_place(std::span<float> v) noexcept {
    double s = 0.0;
    for (float x : v) s += static_cast<double>(x) * x;
    if (s <= 0.0) return;
    const float inv = static_cast<float>(1.0 / std::sqrt(s));
    for (float& x : v) x *= inv;
}
}  // namespace detail

}  // namespace sparsedense
