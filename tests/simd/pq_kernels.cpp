// The product-quantization kernels (simd/pq_kernels.hpp) at every SIMD level against their scalar definitions.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "sparsedense/simd/pq_kernels.hpp"

using namespace sparsedense;
namespace reference = sparsedense::simd::detail::pq_scalar;
namespace layout = sparsedense::simd::fast_scan_layout;

TEST_CASE("argmin kernel equals the scalar loop at every SIMD level, ties to the smaller index", "[simd][pq]") {
    std::mt19937 rng(5);
    std::uniform_int_distribution<int> coarse(-20, 20);  // few distinct values: many ties
    for (std::size_t k : {1u, 7u, 15u, 16u, 17u, 33u, 100u}) {
        for (const bool with_norms : {true, false}) {
            const std::size_t count = 40, stride = k + 3;
            std::vector<float> dots(count * stride), norms(k);
            for (auto& x : dots) x = static_cast<float>(coarse(rng)) * 0.5f;
            for (auto& x : norms) x = static_cast<float>(coarse(rng));
            const float* np = with_norms ? norms.data() : nullptr;
            std::vector<std::uint32_t> want_arg(count), got_arg(count);
            std::vector<float> want_val(count), got_val(count);
            reference::argmin(dots.data(), count, k, stride, np, want_arg.data(), want_val.data());
            for (auto level : simd::supported_simd_levels()) {
                INFO("level " << simd::simd_level_name(level) << " k " << k << " norms " << with_norms);
                simd::kernels_for(level).pq.argmin(dots.data(), count, k, stride, np, got_arg.data(), got_val.data());
                CHECK(got_arg == want_arg);
                CHECK(got_val == want_val);
            }
        }
    }
}

TEST_CASE("LUT construction equals the scalar definition at every SIMD level up to rounding", "[simd][pq]") {
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (std::size_t ksub : {16u, 256u, 12u}) {
        for (std::size_t m : {1u, 3u, 8u}) {
            const std::size_t d = m * 4 + 2;  // uneven sub-spaces: the last one is wider
            std::vector<std::size_t> offsets(m + 1);
            for (std::size_t s = 0; s <= m; ++s) offsets[s] = s == m ? d : s * 4;
            std::vector<float> q(d), t(d * ksub), cnorm(m * ksub);
            for (auto& x : q) x = normal(rng);
            for (auto& x : t) x = normal(rng);
            for (std::size_t s = 0; s < m; ++s)
                for (std::size_t c = 0; c < ksub; ++c) {
                    float n = 0.0f;
                    for (std::size_t j = offsets[s]; j < offsets[s + 1]; ++j) n += t[j * ksub + c] * t[j * ksub + c];
                    cnorm[s * ksub + c] = n;
                }
            for (const bool l2 : {true, false}) {
                std::vector<float> want(m * ksub), got(m * ksub);
                reference::lut_build(q.data(), t.data(), offsets.data(), m, ksub, cnorm.data(), l2, want.data());
                for (auto level : simd::supported_simd_levels()) {
                    INFO("level " << simd::simd_level_name(level) << " ksub " << ksub << " m " << m << " l2 " << l2);
                    simd::kernels_for(level).pq.lut_build(q.data(), t.data(), offsets.data(), m, ksub, cnorm.data(), l2, got.data());
                    for (std::size_t i = 0; i < want.size(); ++i) CHECK(std::fabs(got[i] - want[i]) <= 1e-4f * (1.0f + std::fabs(want[i])));
                }
            }
        }
    }
}

TEST_CASE("LUT quantization gives identical bytes at every SIMD level", "[simd][pq]") {
    std::mt19937 rng(6);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    for (std::size_t m : {1u, 5u, 64u, 256u}) {
        std::vector<float> lut(m * 16);
        for (auto& x : lut) x = normal(rng);
        std::vector<std::uint8_t> want(m * 16), got(m * 16);
        float wb = 0, ws = 0, gb = 0, gs = 0;
        reference::lut_quantize(lut.data(), m, want.data(), &wb, &ws);
        std::uint32_t total = 0;  // the u16 sum of the largest entries fits
        for (std::size_t s = 0; s < m; ++s) total += *std::max_element(want.begin() + s * 16, want.begin() + s * 16 + 16);
        CHECK(total <= 65535u);
        for (auto level : simd::supported_simd_levels()) {
            INFO("level " << simd::simd_level_name(level) << " m " << m);
            simd::kernels_for(level).pq.lut_quantize(lut.data(), m, got.data(), &gb, &gs);
            CHECK(got == want);
            CHECK(gb == wb);
            CHECK(gs == ws);
        }
    }
}

TEST_CASE("fast-scan sums and masks are identical to the scalar definition at every SIMD level", "[simd][pq]") {
    std::mt19937 rng(9);
    std::uniform_int_distribution<int> nibble(0, 15), byte(0, 255);
    for (std::size_t m : {1u, 2u, 3u, 4u, 7u, 16u, 32u, 63u, 64u}) {
        const std::size_t npairs = layout::pairs_for(m), nblocks = 5, bb = layout::block_bytes(m);
        std::vector<std::uint8_t> codes(nblocks * bb, 0), lut(npairs * 32, 0), plain(nblocks * 32 * m);
        for (auto& c : plain) c = static_cast<std::uint8_t>(nibble(rng));
        for (std::size_t b = 0; b < nblocks; ++b)
            for (std::size_t j = 0; j < layout::kBlock; ++j)
                for (std::size_t s = 0; s < m; ++s) layout::set_code(codes.data() + b * bb, j, s, plain[(b * 32 + j) * m + s]);
        for (std::size_t s = 0; s < m; ++s)
            for (std::size_t c = 0; c < 16; ++c) lut[s * 16 + c] = static_cast<std::uint8_t>(byte(rng));
        std::size_t mismatches = 0;  // the layout round-trips
        for (std::size_t b = 0; b < nblocks; ++b)
            for (std::size_t j = 0; j < layout::kBlock; ++j)
                for (std::size_t s = 0; s < m; ++s) mismatches += layout::get_code(codes.data() + b * bb, j, s) != plain[(b * 32 + j) * m + s];
        CHECK(mismatches == 0);
        std::vector<std::uint16_t> want(nblocks * 32), got(nblocks * 32);
        std::vector<std::uint32_t> want_mask(nblocks), got_mask(nblocks);
        for (const std::uint16_t thr : {std::uint16_t{0}, static_cast<std::uint16_t>(m * 128), std::uint16_t{0xFFFF}}) {
            reference::fast_scan(codes.data(), nblocks, npairs, lut.data(), thr, want.data(), want_mask.data());
            for (auto level : simd::supported_simd_levels()) {
                INFO("level " << simd::simd_level_name(level) << " m " << m << " threshold " << thr);
                simd::kernels_for(level).pq.fast_scan(codes.data(), nblocks, npairs, lut.data(), thr, got.data(), got_mask.data());
                CHECK(got == want);
                CHECK(got_mask == want_mask);
            }
        }
    }
}
