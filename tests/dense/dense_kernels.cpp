#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "sparsedense/dense/detail/argmin_kernels.hpp"
#include "sparsedense/dense/detail/pq_lut_kernels.hpp"
#include "sparsedense/simd/dispatch.hpp"

using namespace sparsedense;

TEST_CASE("argmin kernel equals the scalar loop at every SIMD level, ties to the smaller index", "[dense][kernels]") {
    std::mt19937 rng(5);
    std::uniform_int_distribution<int> coarse(-20, 20);  // few distinct values: many ties
    for (std::size_t k : {1u, 7u, 16u, 33u, 100u}) {
        const std::size_t count = 40, stride = k + 3;
        std::vector<float> dots(count * stride), norms(k);
        for (auto& x : dots) x = static_cast<float>(coarse(rng)) * 0.5f;
        for (auto& x : norms) x = static_cast<float>(coarse(rng));
        std::vector<std::uint32_t> want_arg(count), got_arg(count);
        std::vector<float> want_val(count), got_val(count);
        detail::argmin::nearest_reference(dots.data(), count, k, stride, norms.data(), want_arg.data(), want_val.data());
        for (auto level : simd::supported_simd_levels()) {
            simd::ScopedSimdLevel scoped(level);
            detail::argmin::nearest(dots.data(), count, k, stride, norms.data(), got_arg.data(), got_val.data());
            CHECK(got_arg == want_arg);
            CHECK(got_val == want_val);
        }
    }
}

TEST_CASE("LUT quantization gives identical bytes at every SIMD level", "[dense][kernels]") {
    std::mt19937 rng(6);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    for (std::size_t m : {1u, 5u, 64u, 256u}) {
        std::vector<float> lut(m * 16);
        for (auto& x : lut) x = normal(rng);
        std::vector<std::uint8_t> want(m * 16), got(m * 16);
        float wb = 0, ws = 0, gb = 0, gs = 0;
        detail::pq_lut::quantize_reference(lut.data(), m, want.data(), wb, ws);
        // the u16 sum of the largest entries fits
        std::uint32_t total = 0;
        for (std::size_t s = 0; s < m; ++s) total += *std::max_element(want.begin() + s * 16, want.begin() + s * 16 + 16);
        CHECK(total <= 65535u);
        for (auto level : simd::supported_simd_levels()) {
            simd::ScopedSimdLevel scoped(level);
            detail::pq_lut::quantize(lut.data(), m, got.data(), gb, gs);
            CHECK(got == want);
            CHECK(gb == wb);
            CHECK(gs == ws);
        }
    }
}
