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
