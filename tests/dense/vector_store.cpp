// VectorStore's 4-bit encoding: codes within half a step of every value inside the fitted range, the packed layout
// decoded back, scores equal to the decoded vectors' up to the query's int8 rounding, the payload distance of the
// graph walk equal to the store's own score, bad files rejected.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "sparsedense/dense/payload_distance.hpp"
#include "sparsedense/dense/vector_store.hpp"
#include "support/test_support.hpp"

using namespace sparsedense;

namespace {

double dot(const float* a, const float* b, std::size_t d) {
    double s = 0.0;
    for (std::size_t j = 0; j < d; ++j) s += static_cast<double>(a[j]) * b[j];
    return s;
}

}  // namespace

TEST_CASE("int4 store: codes decode within half a step inside the fitted range, odd and even dimensions", "[dense][store]") {
    for (std::size_t d : {1u, 7u, 64u, 101u, 130u}) {
        CAPTURE(d);
        const std::size_t n = 3000;
        auto rows = sparsedense::testing::uniform_vector(n * d, 40 + d, -2.0f, 3.0f);
        for (std::size_t i = 0; i < n; ++i) rows[i * d] = 0.25f;  // a constant dimension is kept exactly
        VectorStore store(d, VectorEncoding::int4_per_dimension);
        store.append({rows.data(), n, d});
        REQUIRE(store.size() == n);
        REQUIRE(store.row_bytes() == (d + 1) / 2);
        REQUIRE(store.raw_bytes().size() == n * ((d + 1) / 2));
        const auto ranges = store.dimension_scales();
        REQUIRE(ranges.size() == 2 * d);
        std::vector<float> decoded(d);
        std::size_t clipped = 0;
        for (std::size_t i = 0; i < n; ++i) {
            store.decode(i, decoded.data());
            double n2 = 0.0;
            for (std::size_t j = 0; j < d; ++j) {
                const float x = rows[i * d + j], s = ranges[j], lo = ranges[d + j];
                n2 += static_cast<double>(decoded[j]) * decoded[j];
                if (x < lo || x > lo + 15 * s) {  // outside the 0.1% .. 99.9% range: saturated to its end
                    ++clipped;
                    CHECK(decoded[j] == Approx(x < lo ? lo : lo + 15 * s).margin(1e-5));
                    continue;
                }
                CHECK(std::fabs(decoded[j] - x) <= s / 2 + 1e-5f);
            }
            CHECK(store.row_norms()[i] == Approx(n2).epsilon(1e-5));
            CHECK(decoded[0] == 0.25f);
        }
        CHECK(clipped <= n * d * 3 / 1000 + 2);  // about 0.2% of the values
    }
}

TEST_CASE("int4 store: scores equal the decoded vectors' within the query rounding, the graph walk's distance equals them", "[dense][store]") {
    const std::size_t n = 500, d = 37;
    const auto rows = sparsedense::testing::uniform_vector(n * d, 3, -1.0f, 1.0f);
    const auto queries = sparsedense::testing::uniform_vector(10 * d, 4, -1.0f, 1.0f);
    VectorStore store(d, VectorEncoding::int4_per_dimension);
    store.append({rows.data(), n, d});
    const auto ranges = store.dimension_scales();
    std::vector<float> x(d), many(n);
    for (std::size_t qi = 0; qi < 10; ++qi) {
        const float* q = queries.data() + qi * d;
        // the query times the scales is rounded to int8 with one scale: at most half of it per dimension and code
        double wmax = 0.0;
        for (std::size_t j = 0; j < d; ++j) wmax = std::max(wmax, std::fabs(static_cast<double>(q[j]) * ranges[j]));
        const double bound = d * 15 * (wmax / 127.0) / 2 + 1e-4;
        const float qn = static_cast<float>(dot(q, q, d));
        store.many(q, 0, n, false, 0.0f, many.data());
        detail::PayloadDistance walk;
        walk.prepare(store, q, false);
        for (std::size_t i = 0; i < n; ++i) {
            store.decode(i, x.data());
            const double exact = dot(q, x.data(), d);
            CHECK(std::fabs(store.dot(q, i) - exact) <= bound);
            CHECK(store.dot(q, i) == many[i]);
            CHECK(store.l2_squared(q, i, qn) == Approx(qn - 2 * exact + store.row_norms()[i]).margin(2 * bound + 1e-4));
            CHECK(-walk(static_cast<std::uint32_t>(i)) == Approx(many[i]).margin(1e-4));
        }
    }
}

TEST_CASE("int4 store: an empty first batch fits nothing, inconsistent raw state is rejected", "[dense][store][errors]") {
    const std::size_t d = 6;
    const auto rows = sparsedense::testing::uniform_vector(40 * d, 8);
    VectorStore store(d, VectorEncoding::int4_per_dimension);
    store.append({rows.data(), 0, d});
    CHECK(store.dimension_scales().empty());
    store.append({rows.data(), 40, d});
    CHECK(store.dimension_scales().size() == 2 * d);
    const auto bytes = store.raw_bytes();
    const auto norms = store.row_norms();
    const auto ranges = store.dimension_scales();
    CHECK(VectorStore::from_raw(d, VectorEncoding::int4_per_dimension, 40, bytes, {}, norms, ranges).size() == 40);
    CHECK_THROWS_AS(VectorStore::from_raw(d, VectorEncoding::int4_per_dimension, 40, bytes.first(bytes.size() - 1), {}, norms, ranges), Error);
    CHECK_THROWS_AS(VectorStore::from_raw(d, VectorEncoding::int4_per_dimension, 40, bytes, {}, norms, ranges.first(d)), Error);
    CHECK_THROWS_AS(VectorStore::from_raw(d, VectorEncoding::int4_per_dimension, 40, bytes, {}, norms.first(39), ranges), Error);
    CHECK(parse_vector_encoding("int4") == VectorEncoding::int4_per_dimension);
    CHECK_THROWS_WITH(parse_vector_encoding("int3"), Catch::Contains("int4"));
}

TEST_CASE("prepared store query: every encoding scores as the raw-query calls do, bit for bit, by id and by range", "[dense][store]") {
    const std::size_t d = 37, n = 90;
    const auto rows = sparsedense::testing::uniform_vector(n * d, 71, -1.0f, 1.5f);
    const auto q = sparsedense::testing::uniform_vector(d, 72, -2.0f, 2.0f);
    const float qn = simd::dot(q.data(), q.data(), d);  // as prepare(q, l2 = true) computes it
    for (auto enc : {VectorEncoding::f32, VectorEncoding::f16, VectorEncoding::bf16, VectorEncoding::int8_per_vector,
                     VectorEncoding::int8_per_dimension, VectorEncoding::int4_per_dimension}) {
        CAPTURE(static_cast<int>(enc));
        VectorStore store(d, enc);
        // prepared before the store has rows (no fitted scales yet): must still score right once rows arrive
        const auto early = store.prepare(q.data(), true);
        store.append({rows.data(), n, d});
        const auto pq = store.prepare(q.data(), true);
        CHECK(store.fits(pq));
        if (store.encoding() == VectorEncoding::int8_per_dimension || store.encoding() == VectorEncoding::int4_per_dimension)
            CHECK_FALSE(store.fits(early));
        // int4 rounds q x scales to int8 codes of step sw: each of the d codes (<= 15) errs by at most sw / 2
        double tolerance = 2e-3 * (1.0 + 2.0 * qn);
        if (enc == VectorEncoding::int4_per_dimension) {
            double wmax = 0.0;
            for (std::size_t j = 0; j < d; ++j) wmax = std::max(wmax, std::fabs(static_cast<double>(q[j]) * store.dimension_scales()[j]));
            tolerance = wmax / 127.0 / 2.0 * 15.0 * d * 2.0 + 1e-4;  // x 2: L2 carries -2 <q, x>
        }
        std::vector<float> by_range(n), by_range_raw(n);
        for (bool l2 : {false, true}) {
            CAPTURE(l2);
            store.many(pq, 0, n, l2, by_range.data());
            store.many(q.data(), 0, n, l2, qn, by_range_raw.data());
            for (std::size_t i = 0; i < n; ++i) {
                const float raw = l2 ? store.l2_squared(q.data(), i, qn) : store.dot(q.data(), i);
                REQUIRE(store.score(pq, i, l2) == raw);
                REQUIRE(store.score(early, i, l2) == raw);
                if (store.is_quantized()) REQUIRE(by_range[i] == raw);  // integer sums: the row's group does not matter
                REQUIRE(by_range[i] == by_range_raw[i]);
                // and the score is the decoded row's, within the encoding's error
                std::vector<float> x(d);
                store.decode(i, x.data());
                const double ip = dot(q.data(), x.data(), d);
                const double want = l2 ? qn - 2 * ip + dot(x.data(), x.data(), d) : ip;
                REQUIRE(std::fabs(store.score(pq, i, l2) - want) <= tolerance);
            }
        }
        // the prepared query of one store on another (same dimension, other encoding) is not used as codes
        VectorStore other(d, enc == VectorEncoding::int4_per_dimension ? VectorEncoding::int8_per_dimension : VectorEncoding::int4_per_dimension);
        other.append({rows.data(), n, d});
        CHECK_FALSE(other.fits(pq));
        CHECK(other.score(pq, 5, false) == other.dot(q.data(), 5));
        // nor on a store of the same encoding fitted on other rows (other per-dimension scales)
        auto shifted = rows;
        for (float& x : shifted) x = 3.0f * x + 0.5f;
        VectorStore twin(d, enc);
        twin.append({shifted.data(), n, d});
        const bool per_dimension = enc == VectorEncoding::int8_per_dimension || enc == VectorEncoding::int4_per_dimension;
        CHECK(twin.fits(pq) == !per_dimension);
        for (std::size_t i = 0; i < n; i += 7) REQUIRE(twin.score(pq, i, true) == twin.l2_squared(q.data(), i, qn));
    }
}
