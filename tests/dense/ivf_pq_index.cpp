#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <vector>

#include "sparsedense/dense/flat_index.hpp"
#include "sparsedense/dense/ivf_pq_index.hpp"
#include "dense/dense_test_support.hpp"
#include "support/test_support.hpp"

using namespace sparsedense;
using sparsedense::dense_test::small_params;
using sparsedense::testing::clustered_vectors;

namespace {
#ifdef __SANITIZE_ADDRESS__
constexpr std::size_t kN = 1500;
#else
constexpr std::size_t kN = 4000;
#endif


template <class Id>
double recall(const SearchResults<Id>& got, const SearchResults<>& want) {
    std::size_t hit = 0;
    for (const auto& w : want)
        hit += std::count_if(got.begin(), got.end(), [&](const auto& g) { return static_cast<std::uint64_t>(g.id) == w.id; });
    return static_cast<double>(hit) / static_cast<double>(want.size());
}
}  // namespace

TEMPLATE_TEST_CASE("ivf-pq with nprobe = nlist and full re-ranking returns the exact top-k", "[dense][ivfpq]", std::uint32_t, std::uint64_t) {
    const std::size_t d = 32, k = 10;
    const auto base = clustered_vectors(kN, d, 25, 51);
    const auto queries = clustered_vectors(15, d, 25, 52);
    const DenseMatrixView<const float> view(base.data(), kN, d);
    for (Metric metric : {Metric::inner_product, Metric::l2, Metric::cosine}) {
        for (std::size_t nbits : {4u, 8u}) {
            FlatIndex flat(d, metric);
            flat.add(view);
            IvfPqIndex<TestType> index(d, metric, small_params(16, 8, nbits));
            index.train(view);
            index.add(view);
            REQUIRE(index.size() == kN);
            IvfPqIndexSearchParams sp{.nprobe = 16, .refine_factor = kN / k + 1};
            for (std::size_t qi = 0; qi < 15; ++qi) {
                std::span<const float> q(queries.data() + qi * d, d);
                const auto got = index.search(q, k, sp);
                const auto want = flat.search(q, k);
                REQUIRE(got.size() == k);
                for (std::size_t r = 0; r < k; ++r) {
                    INFO("metric " << metric_name(metric) << " nbits " << nbits << " rank " << r);
                    CHECK(got[r].id == want[r].id);
                    CHECK(got[r].score == Approx(want[r].score).epsilon(1e-5).margin(1e-5));
                    CHECK(index.score(q, got[r].id) == got[r].score);
                }
            }
        }
    }
}

TEST_CASE("ivf-pq recall on clustered data grows with nprobe and re-ranking", "[dense][ivfpq]") {
    const std::size_t d = 64, k = 10, nq = 40;
    const auto base = clustered_vectors(kN, d, 40, 61, 0.3f);
    const auto queries = clustered_vectors(nq, d, 40, 61, 0.3f);  // same centres, fresh points
    const DenseMatrixView<const float> view(base.data(), kN, d);
    FlatIndex flat(d, Metric::l2);
    flat.add(view);
    for (std::size_t nbits : {4u, 8u}) {
        for (bool keep : {true, false}) {
            auto p = small_params(32, 16, nbits);
            p.keep_vectors = keep;
            p.refine_encoding = VectorEncoding::f16;
            IvfPqIndex<> index(d, Metric::l2, p);
            index.train(view);
            index.add(view);
            double r_low = 0, r_high = 0;
            for (std::size_t qi = 0; qi < nq; ++qi) {
                std::span<const float> q(queries.data() + qi * d, d);
                const auto want = flat.search(q, k);
                r_low += recall(index.search(q, k, {.nprobe = 1, .refine_factor = 1}), want);
                r_high += recall(index.search(q, k, {.nprobe = 8, .refine_factor = 10}), want);
            }
            r_low /= nq;
            r_high /= nq;
            INFO("nbits " << nbits << " keep " << keep << " recall nprobe1 " << r_low << " nprobe8+refine " << r_high);
            if (keep) CHECK(r_high >= r_low);
            CHECK(r_high >= (keep ? 0.95 : nbits == 8 ? 0.5 : 0.3));
        }
    }
}

TEST_CASE("ivf-pq batch search equals single search, any thread count", "[dense][ivfpq]") {
    const std::size_t d = 24, nq = 33;
    const auto base = clustered_vectors(kN, d, 20, 71);
    const auto queries = clustered_vectors(nq, d, 20, 72);
    const DenseMatrixView<const float> view(base.data(), kN, d);
    IvfPqIndex<> index(d, Metric::cosine, small_params(20, 12, 4));
    index.train(view);
    index.add(view);
    const IvfPqIndexSearchParams sp{.nprobe = 4, .refine_factor = 3};
    const auto batch = index.search_batch(DenseMatrixView<const float>(queries.data(), nq, d), 5, sp, 3);
    for (std::size_t i = 0; i < nq; ++i) CHECK(batch[i] == index.search({queries.data() + i * d, d}, 5, sp));
}

TEST_CASE("ivf-pq external ids, add after training and remove by id", "[dense][ivfpq]") {
    const std::size_t d = 16;
    const auto base = clustered_vectors(2000, d, 10, 81);
    const DenseMatrixView<const float> view(base.data(), 2000, d);
    IvfPqIndex<std::uint64_t> index(d, Metric::l2, small_params(10, 8, 4));
    index.train(view.slice(0, 1000));
    std::vector<std::uint64_t> ids(2000);
    for (std::size_t i = 0; i < 2000; ++i) ids[i] = 1'000'000'000'000ull + 7 * i;
    index.add(view.slice(0, 1000), std::span<const std::uint64_t>(ids.data(), 1000));
    index.add(view.slice(1000, 1000), std::span<const std::uint64_t>(ids.data() + 1000, 1000));
    REQUIRE(index.size() == 2000);
    const IvfPqIndexSearchParams all{.nprobe = 10, .refine_factor = 400};
    // each vector finds itself first (distance 0)
    for (std::size_t i = 0; i < 2000; i += 111) {
        const auto r = index.search({base.data() + i * d, d}, 1, all);
        CHECK(r[0].id == ids[i]);
        CHECK(r[0].score == Approx(0.0f).margin(1e-4));
    }
    // duplicate ids and mixing id modes are rejected without changing the index
    CHECK_THROWS_AS(index.add(view.slice(0, 2), std::span<const std::uint64_t>(ids.data(), 2)), Error);
    CHECK_THROWS_AS(index.add(view.slice(0, 2)), Error);
    REQUIRE(index.size() == 2000);
    // remove every third id
    std::vector<std::uint64_t> gone;
    for (std::size_t i = 0; i < 2000; i += 3) gone.push_back(ids[i]);
    gone.push_back(42);  // unknown: ignored
    CHECK(index.remove(gone) == gone.size() - 1);
    CHECK(index.size() == 2000 - (gone.size() - 1));
    const std::set<std::uint64_t> gone_set(gone.begin(), gone.end());
    for (std::size_t i = 0; i < 2000; i += 37) {
        const auto r = index.search({base.data() + i * d, d}, 20, all);
        for (const auto& h : r) CHECK(gone_set.count(h.id) == 0);
        if (i % 3 != 0) CHECK(r[0].id == ids[i]);
        else CHECK_THROWS_AS(index.score({base.data() + i * d, d}, ids[i]), Error);
    }
    // removed ids can be added again
    index.add(view.slice(0, 1), std::span<const std::uint64_t>(ids.data(), 1));
    CHECK(index.search({base.data(), d}, 1, all)[0].id == ids[0]);
}

TEST_CASE("ivf-pq rejects bad input and stays usable", "[dense][ivfpq][errors]") {
    const std::size_t d = 16;
    auto base = clustered_vectors(600, d, 8, 91);
    const DenseMatrixView<const float> view(base.data(), 600, d);
    IvfPqIndex<> index(d, Metric::inner_product, small_params(8, 4, 4));
    std::vector<float> q(base.begin(), base.begin() + d);
    CHECK_THROWS_AS(index.search(q, 5), Error);  // not trained
    CHECK_THROWS_AS(index.add(view), Error);
    CHECK_THROWS_AS(index.train(view.slice(0, 4)), Error);  // fewer rows than nlist
    index.train(view);
    index.add(view);
    CHECK_THROWS_AS(index.search(q, 0), Error);
    CHECK_THROWS_AS(index.search(std::span<const float>(q.data(), d - 1), 5), Error);
    CHECK_THROWS_AS(index.search(q, 5, {.nprobe = 0}), Error);
    auto nan_q = q;
    nan_q[3] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_AS(index.search(nan_q, 5), Error);
    auto bad = base;
    bad[5 * d + 1] = std::numeric_limits<float>::infinity();
    CHECK_THROWS_AS(index.add(DenseMatrixView<const float>(bad.data(), 600, d)), Error);
    CHECK_THROWS_AS(index.add(DenseMatrixView<const float>(base.data(), 10, d - 1)), Error);
    CHECK(index.size() == 600);
    FlatIndex flat(d, Metric::inner_product);
    flat.add(view);
    CHECK(index.search(q, 5, {.nprobe = 8, .refine_factor = 200})[0].id == flat.search(q, 1)[0].id);
    CHECK_THROWS_AS(index.train(view), Error);  // retraining a filled index
    CHECK(index.search(q, 3, {.nprobe = 8, .refine_factor = std::size_t{1} << 62}).size() == 3);  // huge refine factor is capped
    CHECK_THROWS_AS(IvfPqIndex<>(d, Metric::l2, small_params(0, 4, 4)), Error);
    CHECK_THROWS_AS(IvfPqIndex<>(d, Metric::l2, small_params(8, 4, 5)), Error);
}


TEST_CASE("dense indexes name the fault: default-constructed, too few training vectors, k = SIZE_MAX", "[dense][errors]") {
    const std::size_t d = 16;
    const auto base = clustered_vectors(300, d, 6, 77);
    const DenseMatrixView<const float> view(base.data(), 300, d);
    const std::span<const float> q(base.data(), d);
    auto message_of = [](auto&& call) -> std::string {
        try {
            call();
        } catch (const Error& e) {
            CHECK(e.kind() == ErrorKind::invalid_argument);
            return e.what();
        }
        FAIL("no sparsedense::Error thrown");
        return {};
    };
    IvfPqIndex<> unset;
    CHECK_THAT(message_of([&] { (void)unset.search(q, 10); }), Catch::Contains("IvfPqIndex") && Catch::Contains("default-constructed"));
    CHECK_THAT(message_of([&] { unset.train(view); }), Catch::Contains("default-constructed"));
    FlatIndex flat_unset;
    CHECK_THAT(message_of([&] { (void)flat_unset.search(q, 10); }), Catch::Contains("FlatIndex") && Catch::Contains("default-constructed"));

    IvfPqIndex<> ivf(d, Metric::l2, small_params(64, 4, 8));  // 8-bit PQ: 256 centroids per sub-space
    CHECK_THAT(message_of([&] { ivf.train(view.slice(0, 40)); }), Catch::Contains("40 training vectors, need at least 256"));
    CHECK_THAT(message_of([&] { ivf.train(view.slice(0, 40)); }), Catch::Contains("nlist = 64"));
    CHECK_THAT(message_of([&] { (void)ivf.search(q, 10); }), Catch::Contains("not trained"));

    IvfPqIndex<> small(d, Metric::l2, small_params(4, 4, 4));
    small.train(view);
    small.add(view);
    const auto all = small.search(q, SIZE_MAX, {.nprobe = 4, .refine_factor = 4});
    CHECK(all.size() == 300);
    FlatIndex flat(d, Metric::l2);
    flat.add(view);
    CHECK(flat.search(q, SIZE_MAX).size() == 300);
    CHECK(flat.search_batch(view.slice(0, 3), SIZE_MAX).at(2).size() == 300);
}
