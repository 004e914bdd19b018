// sparsedense/core/value_types.hpp
//
// Storage value types: float16 (IEEE 754 binary16) and bfloat16 (the upper half of a binary32), both as 16-bit
// wrappers with exact round-to-nearest-even conversion from float and exact widening back to float, plus the
// u8 / i8 scalar quantizers used for compact weights and vectors. Kernels in simd/ widen these in registers;
// the scalar functions here are their reference.
//
// Quantizers (ScalarQuantizer) map a float range [min, max] linearly onto the integer codes:
//   u8: code = round((x - min) / step), step = (max - min) / 255, decode x' = min + code * step, |x - x'| <= step / 2
//   i8 (symmetric): code = round(x / step), step = max|x| / 127, decode x' = code * step, |x - x'| <= step / 2
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>

#include "sparsedense/core/error.hpp"

namespace sparsedense {

/// Precision of stored sparse weights: posting lists of the exact index, the clustered index's forward index.
enum class WeightPrecision : std::uint8_t {
    f32 = 0,  ///< exact
    f16 = 1,  ///< IEEE half: relative error <= 2^-11 (absolute <= 2^-25 below 2^-14)
    u8 = 2,   ///< affine 8-bit codes (per term in posting lists, per document in the forward index):
              ///< absolute error <= (max - min) / 510 of the group coded together
};

inline const char* weight_precision_name(WeightPrecision p) noexcept {
    switch (p) {
        case WeightPrecision::f32: return "f32";
        case WeightPrecision::f16: return "f16";
        case WeightPrecision::u8: return "u8";
    }
    return "?";
}

/// IEEE 754 half precision, stored as its 16 bits.
struct float16 {
    std::uint16_t bits = 0;

    constexpr float16() = default;
    static constexpr float16 from_bits(std::uint16_t b) noexcept { float16 h; h.bits = b; return h; }
    explicit float16(float value) noexcept : bits(from_float(value)) {}
    explicit operator float() const noexcept { return to_float(bits); }
    [[nodiscard]] float to_float() const noexcept { return to_float(bits); }
    friend bool operator==(float16 a, float16 b) noexcept { return a.bits == b.bits; }

    static std::uint16_t from_float(float value) noexcept {
        const std::uint32_t x = std::bit_cast<std::uint32_t>(value);
        const std::uint32_t sign = (x >> 16) & 0x8000u;
        const std::uint32_t abs = x & 0x7fffffffu;
        if (abs >= 0x7f800000u) {  // inf or nan
            return static_cast<std::uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u | ((abs >> 13) & 0x3ffu) : 0u));
        }
        if (abs >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // rounds to >= 65520: inf
        if (abs < 0x38800000u) {  // subnormal half (or zero): |x| < 2^-14
            // value in units of 2^-24, round to nearest even, done in float arithmetic which is exact here
            const float f = std::bit_cast<float>(abs) * 16777216.0f;  // * 2^24
            const float r = std::nearbyint(f);                          // default rounding: nearest even
            return static_cast<std::uint16_t>(sign | static_cast<std::uint32_t>(r));
        }
        // normal: rebias exponent (127 -> 15) and round mantissa 23 -> 10 bits, nearest even
        std::uint32_t mant_rounded = abs + 0xfffu + ((abs >> 13) & 1u);
        return static_cast<std::uint16_t>(sign | ((mant_rounded - 0x38000000u) >> 13));
    }

    static float to_float(std::uint16_t h) noexcept {
        const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
        const std::uint32_t exp = (h >> 10) & 0x1fu;
        const std::uint32_t mant = h & 0x3ffu;
        std::uint32_t out;
        if (exp == 0) {
            if (mant == 0) return std::bit_cast<float>(sign);
            const float v = static_cast<float>(mant) * (1.0f / 16777216.0f);  // mant * 2^-24, exact
            return sign ? -v : v;
        } else if (exp == 31) {
            out = sign | 0x7f800000u | (mant << 13);
        } else {
            out = sign | ((exp + 112u) << 23) | (mant << 13);
        }
        return std::bit_cast<float>(out);
    }
};

/// bfloat16: the upper 16 bits of a binary32 (8-bit exponent, 7-bit mantissa), rounded to nearest even.
struct bfloat16 {
    std::uint16_t bits = 0;

    constexpr bfloat16() = default;
    static constexpr bfloat16 from_bits(std::uint16_t b) noexcept { bfloat16 h; h.bits = b; return h; }
    explicit bfloat16(float value) noexcept : bits(from_float(value)) {}
    explicit operator float() const noexcept { return to_float(bits); }
    [[nodiscard]] float to_float() const noexcept { return to_float(bits); }
    friend bool operator==(bfloat16 a, bfloat16 b) noexcept { return a.bits == b.bits; }

    static std::uint16_t from_float(float value) noexcept {
        std::uint32_t x = std::bit_cast<std::uint32_t>(value);
        if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40u);  // quiet nan
        x += 0x7fffu + ((x >> 16) & 1u);
        return static_cast<std::uint16_t>(x >> 16);
    }
    static float to_float(std::uint16_t h) noexcept { return std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16); }
};

static_assert(sizeof(float16) == 2 && sizeof(bfloat16) == 2);

/// Widens any supported storage value to float (identity for float, exact for f16/bf16, plain cast for ints).
template <class T>
[[nodiscard]] inline float to_float(T v) noexcept {
    if constexpr (std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>) return v.to_float();
    else return static_cast<float>(v);
}

/// Narrows a float to a storage type (round to nearest even for f16/bf16; saturating round for ints).
template <class T>
[[nodiscard]] inline T from_float(float v) noexcept {
    if constexpr (std::is_same_v<T, float>) return v;
    else if constexpr (std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>) return T(v);
    else {
        static_assert(std::is_integral_v<T>);
        const float lo = static_cast<float>(std::numeric_limits<T>::min());
        const float hi = static_cast<float>(std::numeric_limits<T>::max());
        return static_cast<T>(std::clamp(std::nearbyint(v), lo, hi));
    }
}

/// Converts a span of floats to a storage type.
template <class T>
inline void convert_from_float(std::span<const float> in, std::span<T> out) {
    if (in.size() != out.size())
        raise(ErrorKind::dimension_mismatch, "convert_from_float: input has ", in.size(), " values, output ", out.size());
    for (std::size_t i = 0; i < in.size(); ++i) out[i] = from_float<T>(in[i]);
}

/// Linear scalar quantizer for u8 (affine, [min,max] -> 0..255) or i8 (symmetric, [-m,m] -> -127..127).
template <class Code>
struct ScalarQuantizer {
    static_assert(std::is_same_v<Code, std::uint8_t> || std::is_same_v<Code, std::int8_t>);
    float offset = 0.0f;  ///< value of code 0 (u8) or 0 (i8)
    float step = 1.0f;    ///< value of one code unit

    /// Fits the range of the given values (NaN/inf rejected). A constant input gets step 1 so decoding is exact.
    static ScalarQuantizer fit(std::span<const float> values) {
        ScalarQuantizer q;
        if (values.empty()) return q;
        float lo = std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::lowest();
        for (std::size_t i = 0; i < values.size(); ++i) {
            const float v = values[i];
            if (!std::isfinite(v)) raise(ErrorKind::invalid_data, "scalar quantizer: value ", i, " is not finite (", v, ")");
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
        if constexpr (std::is_same_v<Code, std::uint8_t>) {
            q.offset = lo;
            q.step = hi > lo ? (hi - lo) / 255.0f : 1.0f;
        } else {
            const float m = std::max(std::fabs(lo), std::fabs(hi));
            q.offset = 0.0f;
            q.step = m > 0.0f ? m / 127.0f : 1.0f;
        }
        return q;
    }
    [[nodiscard]] Code encode(float v) const noexcept {
        if constexpr (std::is_same_v<Code, std::uint8_t>)
            return static_cast<Code>(std::clamp(std::nearbyint((v - offset) / step), 0.0f, 255.0f));
        else
            return static_cast<Code>(std::clamp(std::nearbyint(v / step), -127.0f, 127.0f));
    }
    [[nodiscard]] float decode(Code c) const noexcept { return offset + static_cast<float>(c) * step; }
    /// Largest |x - decode(encode(x))| for x inside the fitted range.
    [[nodiscard]] float max_error() const noexcept { return step * 0.5f; }
};

}  // namespace sparsedense
