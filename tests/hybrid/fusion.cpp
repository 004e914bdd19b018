#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "sparsedense/hybrid/fusion.hpp"
#include "sparsedense/hybrid/normalization.hpp"

using namespace sparsedense;

TEST_CASE("score normalizations on a hand-computed list", "[hybrid][normalization]") {
    const std::vector<float> s{1.0f, 2.0f, 3.0f, 6.0f};  // min 1, max 6, mean 3, population var 3.5, sample var 14/3
    const std::span<const float> v(s);
    const auto mm = ScoreNormalizer::fit(ScoreNormalization::min_max, v);
    REQUIRE(mm(1.0) == Approx(0.0).margin(1e-12));
    REQUIRE(mm(6.0) == Approx(1.0));
    REQUIRE(mm(2.0) == Approx(0.2));
    const auto cmm = ScoreNormalizer::fit(ScoreNormalization::centered_min_max, v);
    REQUIRE(cmm(1.0) == Approx(-0.5));
    REQUIRE(cmm(6.0) == Approx(0.5));
    REQUIRE(cmm(3.5) == Approx(0.0).margin(1e-12));
    const auto z = ScoreNormalizer::fit(ScoreNormalization::z_score, v);
    REQUIRE(z(3.0) == Approx(0.0).margin(1e-12));
    REQUIRE(z(6.0) == Approx(3.0 / std::sqrt(3.5)));
    const auto dbsf = ScoreNormalizer::fit(ScoreNormalization::dbsf, v);
    const double sigma = std::sqrt(14.0 / 3.0);
    REQUIRE(dbsf(3.0) == Approx(0.5));
    REQUIRE(dbsf(3.0 + 3.0 * sigma) == Approx(1.0));
    REQUIRE(dbsf(1.0) == Approx((1.0 - (3.0 - 3.0 * sigma)) / (6.0 * sigma)));
    REQUIRE(ScoreNormalizer::fit(ScoreNormalization::none, v)(7.5) == 7.5);

    // degenerate lists
    const std::vector<float> one{4.0f};
    REQUIRE(ScoreNormalizer::fit(ScoreNormalization::min_max, std::span<const float>(one))(4.0) == 1.0);
    REQUIRE(ScoreNormalizer::fit(ScoreNormalization::centered_min_max, std::span<const float>(one))(4.0) == 0.0);
    REQUIRE(ScoreNormalizer::fit(ScoreNormalization::z_score, std::span<const float>(one))(4.0) == 0.0);
    REQUIRE(ScoreNormalizer::fit(ScoreNormalization::dbsf, std::span<const float>(one))(4.0) == 0.5);
    REQUIRE(ScoreNormalizer::fit(ScoreNormalization::min_max, std::span<const float>())(4.0) == 0.0);

    REQUIRE(parse_normalization("dbsf") == ScoreNormalization::dbsf);
    REQUIRE_THROWS_AS(parse_normalization("minmax"), Error);
}

TEST_CASE("convex fusion with each missing-score policy, hand-computed", "[hybrid][fusion]") {
    // sparse: 1 (10), 2 (6), 3 (2)      dense: 4 (0.9), 1 (0.5), 5 (0.1)
    const SearchResults<> sparse{{1, 10.0f}, {2, 6.0f}, {3, 2.0f}};
    const SearchResults<> dense{{4, 0.9f}, {1, 0.5f}, {5, 0.1f}};
    auto c = FusionCandidates::from_lists(sparse, dense);
    REQUIRE(c.size() == 5);
    REQUIRE_FALSE(c.sparse_filled);
    // min-max: sparse 1->1, 2->0.5, 3->0; dense 4->1, 1->0.5, 5->0.
    // list_minimum: docs 4,5 get sparse min (0 after normalization); docs 2,3 get dense min (0).
    auto p = FusionParams::convex(ScoreNormalization::min_max, 0.5, MissingScore::list_minimum);
    auto r = fuse(c, p, 5);
    // fused: 1: .5*1+.5*.5=.75; 4: .5; 2: .25; 3: 0; 5: 0 (tie -> smaller id first)
    REQUIRE(r.size() == 5);
    REQUIRE(r[0].id == 1);
    REQUIRE(r[0].score == Approx(0.75));
    REQUIRE(r[1].id == 4);
    REQUIRE(r[2].id == 2);
    REQUIRE(r[3].id == 3);
    REQUIRE(r[4].id == 5);
    // automatic without exact scores = list_minimum
    p.missing = MissingScore::automatic;
    REQUIRE(fuse(c, p, 5) == r);
    // exact requested but not filled: an error, not a silent fallback
    p.missing = MissingScore::exact;
    REQUIRE_THROWS_AS(fuse(c, p, 5), Error);

    // Exact scores: doc 2 has dense 0.7 (above the dense list's minimum: it was just not retrieved... e.g. by an
    // approximate index), doc 3 has 0.0; doc 4 has sparse 4, doc 5 sparse 0.
    c.fill_sparse([](std::uint32_t id) { return id == 4 ? 4.0f : 0.0f; });
    c.fill_dense([](std::uint32_t id) { return id == 2 ? 0.7f : 0.0f; });
    REQUIRE(c.sparse_filled);
    REQUIRE(c.dense_filled);
    r = fuse(c, p, 3);
    // normalization fitted on the retrieved lists: sparse (s-2)/8, dense (d-0.1)/0.8
    // 1: .5*1 + .5*.5 = .75; 2: .5*.5 + .5*.75 = .625; 4: .5*.25 + .5*1 = .625; 3: 0 + .5*(-.125); 5: .5*(-.25) + 0
    REQUIRE(r.size() == 3);
    REQUIRE(r[0].id == 1);
    REQUIRE(r[1].id == 2);  // tie with 4 at .625 -> smaller id
    REQUIRE(r[1].score == Approx(0.625));
    REQUIRE(r[2].id == 4);
    // zero policy: a missing side contributes 0 even when exact scores exist
    p.missing = MissingScore::zero;
    r = fuse(c, p, 5);
    REQUIRE(r[0].id == 1);
    REQUIRE(r[1].id == 4);
    REQUIRE(r[1].score == Approx(0.5));
    // alpha = 1: sparse order; alpha = 0: dense order
    p = FusionParams::convex(ScoreNormalization::z_score, 1.0);
    r = fuse(c, p, 2);
    REQUIRE(r[0].id == 1);
    REQUIRE(r[1].id == 2);
    p.alpha = 0.0;
    r = fuse(c, p, 2);
    REQUIRE(r[0].id == 4);
    REQUIRE(r[1].id == 2);  // exact dense 0.7 beats doc 1's 0.5
}

TEST_CASE("reciprocal rank fusion, hand-computed, with weights", "[hybrid][fusion][rrf]") {
    const SearchResults<> sparse{{1, 10.0f}, {2, 6.0f}, {3, 2.0f}};
    const SearchResults<> dense{{3, 0.9f}, {1, 0.5f}};
    auto r = fuse(sparse, dense, FusionParams::rrf(), 3);
    // 1: 1/61 + 1/62; 3: 1/63 + 1/61; 2: 1/62
    REQUIRE(r[0].id == 1);
    REQUIRE(r[0].score == Approx(1.0 / 61 + 1.0 / 62));
    REQUIRE(r[1].id == 3);
    REQUIRE(r[1].score == Approx(1.0 / 63 + 1.0 / 61));
    REQUIRE(r[2].id == 2);
    // weights: dense counts 3x -> 3 first (3/61 + 1/63 > 3/62 + 1/61)
    r = fuse(sparse, dense, FusionParams::rrf(60, 1.0, 3.0), 1);
    REQUIRE(r[0].id == 3);
    // rrf_k = 1 with ranks from 1
    r = fuse(sparse, dense, FusionParams::rrf(1.0), 1);
    REQUIRE(r[0].score == Approx(1.0 / 2 + 1.0 / 3));

    const std::vector<SearchResults<>> lists{sparse, dense, {{2, 1.0f}}};
    r = reciprocal_rank_fusion(lists, 10);
    REQUIRE(r.size() == 3);
    REQUIRE(r[0].id == 1);
    REQUIRE(r[1].id == 2);  // 1/62 + 1/61: ties with doc 1, smaller id first
    REQUIRE(r[1].score == Approx(1.0 / 62 + 1.0 / 61));
    REQUIRE(r[2].id == 3);
    const std::vector<double> w{0.0, 0.0, 1.0};
    REQUIRE(reciprocal_rank_fusion(lists, 1, 60.0, w)[0].id == 2);
    REQUIRE_THROWS_AS(reciprocal_rank_fusion(lists, 1, 60.0, std::span<const double>(w.data(), 2)), Error);
}

TEST_CASE("fusion parameter and input validation", "[hybrid][fusion]") {
    const SearchResults<> a{{1, 1.0f}};
    REQUIRE_THROWS_AS(fuse(a, a, FusionParams::convex(ScoreNormalization::min_max, 1.5), 1), Error);
    REQUIRE_THROWS_AS(fuse(a, a, FusionParams::rrf(0.0), 1), Error);
    REQUIRE_THROWS_AS(fuse(a, a, FusionParams::rrf(60, -1.0), 1), Error);
    REQUIRE_THROWS_AS(fuse(a, a, FusionParams{}, 0), Error);
    const SearchResults<> dup{{1, 1.0f}, {1, 0.5f}};
    REQUIRE_THROWS_AS(fuse(dup, a, FusionParams{}, 1), Error);
    REQUIRE_THROWS_AS(fuse(a, dup, FusionParams{}, 1), Error);
    // empty lists fuse to an empty or one-sided result
    REQUIRE(fuse(SearchResults<>{}, SearchResults<>{}, FusionParams{}, 5).empty());
    const auto one_sided = fuse(SearchResults<>{}, SearchResults<>{{3, 0.2f}, {4, 0.1f}}, FusionParams{}, 5);
    REQUIRE(one_sided.size() == 2);
    REQUIRE(one_sided[0].id == 3);
}
