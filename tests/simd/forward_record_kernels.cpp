// The forward-record kernel (simd/forward_record.hpp) at every SIMD level against a double-precision reference, for
// the six record layouts (u16 | u32 ids) x (f32 | f16 | u8 values) and every length from 0 to past two AVX-512 steps.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "sparsedense/simd/dispatch.hpp"
#include "sparsedense/simd/forward_record.hpp"

using namespace sparsedense;
using namespace sparsedense::simd;

namespace {

/// Encodes one record in the layout of simd/forward_record.hpp; returns the decoded values it holds.
template <class Id, class Value>
std::vector<std::uint32_t> encode_record(const std::vector<std::uint32_t>& ids, const std::vector<float>& values, std::vector<double>& stored) {
    const std::size_t n = ids.size();
    const bool u8 = std::is_same_v<Value, std::uint8_t>;
    const std::size_t id_bytes = (sizeof(Id) * n + 3) & ~std::size_t{3};
    std::vector<std::uint32_t> words((u8 ? 2 : 0) + (id_bytes + sizeof(Value) * n + 3) / 4 + 1, 0);
    float offset = 0.0f, step = 1.0f;
    if (u8) {
        offset = 0.05f;
        step = 2.0f / 255.0f;
        std::memcpy(words.data(), &offset, 4);
        std::memcpy(words.data() + 1, &step, 4);
    }
    auto* base = reinterpret_cast<unsigned char*>(words.data() + (u8 ? 2 : 0));
    stored.assign(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        const Id id = static_cast<Id>(ids[i]);
        std::memcpy(base + sizeof(Id) * i, &id, sizeof(Id));
        unsigned char* v = base + id_bytes + sizeof(Value) * i;
        if constexpr (std::is_same_v<Value, float>) {
            std::memcpy(v, &values[i], 4);
            stored[i] = values[i];
        } else if constexpr (std::is_same_v<Value, float16>) {
            const float16 h(values[i]);
            std::memcpy(v, &h.bits, 2);
            stored[i] = h.to_float();
        } else {
            const auto code = static_cast<std::uint8_t>(std::lround(std::clamp((values[i] - offset) / step, 0.0f, 255.0f)));
            *v = code;
            stored[i] = static_cast<double>(offset) + static_cast<double>(step) * code;
        }
    }
    return words;
}

template <class Id, class Value>
void check_layout(bool wide, WeightPrecision precision) {
    const std::size_t dim = wide ? 100000 : 700;
    std::mt19937_64 rng(wide ? 17 : 18);
    std::uniform_real_distribution<float> weight(0.0f, 2.0f);
    std::vector<float> dense(dim);
    for (auto& x : dense) x = weight(rng);
    const int kind = forward_record_kind(wide, precision);
    for (std::size_t n = 0; n <= 40; ++n) {
        std::vector<std::uint32_t> ids;
        std::uniform_int_distribution<std::uint32_t> term(0, static_cast<std::uint32_t>(dim - 1));
        while (ids.size() < n) ids.push_back(term(rng));
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        std::vector<float> values(ids.size());
        for (auto& v : values) v = weight(rng);
        std::vector<double> stored;
        const auto record = encode_record<Id, Value>(ids, values, stored);
        double expected = 0.0, magnitude = 0.0;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            expected += static_cast<double>(dense[ids[i]]) * stored[i];
            magnitude += std::fabs(static_cast<double>(dense[ids[i]]) * stored[i]);
        }
        for (SimdLevel level : supported_simd_levels()) {
            const float got = kernels_for(level).forward_record->by_kind[kind](record.data(), ids.size(), dense.data());
            CAPTURE(simd_level_name(level), wide, weight_precision_name(precision), ids.size());
            REQUIRE(std::fabs(got - expected) <= 1e-5 * magnitude + 1e-6);
        }
    }
}

}  // namespace

TEST_CASE("forward-record kernel: every level and layout equals a double-precision dot product", "[simd][sparse]") {
    check_layout<std::uint16_t, float>(false, WeightPrecision::f32);
    check_layout<std::uint16_t, float16>(false, WeightPrecision::f16);
    check_layout<std::uint16_t, std::uint8_t>(false, WeightPrecision::u8);
    check_layout<std::uint32_t, float>(true, WeightPrecision::f32);
    check_layout<std::uint32_t, float16>(true, WeightPrecision::f16);
    check_layout<std::uint32_t, std::uint8_t>(true, WeightPrecision::u8);
}

TEST_CASE("forward-record kernel: the active table follows set_simd_level", "[simd][sparse]") {
    for (SimdLevel level : supported_simd_levels()) {
        ScopedSimdLevel scoped(level);
        REQUIRE(kernels().forward_record == kernels_for(level).forward_record);
        REQUIRE(kernels().forward_record != nullptr);
    }
}
