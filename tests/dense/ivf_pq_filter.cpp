// IvfPqIndex as a Retriever: filtered search (both plans), prepared queries, build(), and its parts
// (CoarseQuantizer's one assignment rule, InvertedLists' id-to-position map and mapped mode).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include "sparsedense/core/retriever.hpp"
#include "sparsedense/dense/flat_index.hpp"
#include "sparsedense/dense/ivf_pq_index.hpp"
#include "dense/dense_test_support.hpp"
#include "support/temp_dir.hpp"
#include "support/test_support.hpp"

using namespace sparsedense;
using sparsedense::dense_test::small_params;
using sparsedense::testing::clustered_vectors;
using sparsedense::testing::TempDir;

static_assert(Retriever<IvfPqIndex<>>);
static_assert(Retriever<IvfPqIndex<std::uint64_t>>);
static_assert(std::is_same_v<IvfPqIndex<std::uint64_t>::id_type, std::uint64_t>);

namespace {
constexpr std::size_t kN = 3000, kD = 24;

/// Ids accepted with probability `fraction` (seeded), as a bitset over ids 0..max_id.
IdBitset random_filter(const std::vector<std::uint64_t>& ids, double fraction, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    IdBitset bits(static_cast<std::size_t>(*std::max_element(ids.begin(), ids.end()) + 1));
    for (const auto id : ids)
        if (u(rng) < fraction) bits.set(id);
    return bits;
}

/// Top-k over the accepted ids by the prepared scorer, best first (ties: smaller id).
template <class Index>
SearchResults<typename Index::id_type> brute_force(const Index& index, std::span<const float> q, std::size_t k,
                                                   const std::vector<std::uint64_t>& ids, const IdBitset& allowed) {
    using Id = typename Index::id_type;
    const auto scorer = index.prepare(q);
    SearchResults<Id> all;
    for (const auto id : ids)
        if (allowed.test(id)) all.push_back({static_cast<Id>(id), scorer(static_cast<Id>(id))});
    std::sort(all.begin(), all.end(), RanksBefore{});
    if (all.size() > k) all.resize(k);
    return all;
}

template <class Id>
double overlap(const SearchResults<Id>& got, const SearchResults<Id>& want) {
    std::size_t hit = 0;
    for (const auto& w : want) hit += std::count_if(got.begin(), got.end(), [&](const auto& g) { return g.id == w.id; });
    return want.empty() ? 1.0 : static_cast<double>(hit) / static_cast<double>(want.size());
}
}  // namespace

TEMPLATE_TEST_CASE("ivf-pq filtered search respects the filter and equals brute force on the exact plan", "[dense][ivfpq][filter]",
                   std::uint32_t, std::uint64_t) {
    const auto base = clustered_vectors(kN, kD, 20, 401);
    const auto queries = clustered_vectors(12, kD, 20, 402);
    const DenseMatrixView<const float> view(base.data(), kN, kD);
    for (const bool keep : {true, false}) {
        for (const bool explicit_ids : {false, true}) {
            auto p = small_params(16, 8, 4);
            p.keep_vectors = keep;
            IvfPqIndex<TestType> index(kD, Metric::l2, p);
            index.train(view);
            std::vector<std::uint64_t> ids(kN);
            std::vector<TestType> typed(kN);
            for (std::size_t i = 0; i < kN; ++i) typed[i] = static_cast<TestType>(ids[i] = explicit_ids ? 5 * i + 11 : i);
            if (explicit_ids) index.add(view, typed);
            else index.add(view);
            for (const double selectivity : {1.0, 0.1, 0.01, 0.001}) {
                const IdBitset allowed = random_filter(ids, selectivity, 7);
                const auto pred = [&](std::uint64_t id) { return allowed.test(id); };
                for (const double fraction : {0.0, 0.05, 1.0}) {
                    const IvfPqIndexSearchParams sp{.nprobe = 4, .refine_factor = 4, .exact_scan_fraction = fraction};
                    for (std::size_t qi = 0; qi < 12; ++qi) {
                        const std::span<const float> q(queries.data() + qi * kD, kD);
                        INFO("keep " << keep << " explicit " << explicit_ids << " selectivity " << selectivity << " fraction " << fraction);
                        const auto by_bits = index.search(q, 10, sp, allowed);
                        const auto by_pred = index.search(q, 10, sp, IdFilter::predicate(pred, allowed.count()));
                        CHECK(by_bits == by_pred);
                        for (const auto& h : by_bits) CHECK(allowed.test(h.id));
                        const bool exact_plan = selectivity < 1.0 && static_cast<double>(allowed.count()) <= fraction * kN;
                        if (exact_plan) CHECK(by_bits == brute_force(index, q, 10, ids, allowed));
                    }
                }
            }
        }
    }
}

TEST_CASE("ivf-pq recall at 10 percent selectivity stays close to unfiltered with enough nprobe", "[dense][ivfpq][filter]") {
    const std::size_t n = 6000, d = 32, nq = 40, k = 10;
    const auto base = clustered_vectors(n, d, 30, 411, 0.3f);
    const auto queries = clustered_vectors(nq, d, 30, 412, 0.3f);
    const DenseMatrixView<const float> view(base.data(), n, d);
    auto index = IvfPqIndex<>::build(view, Metric::inner_product, small_params(32, 16, 4));
    std::vector<std::uint64_t> ids(n);
    for (std::size_t i = 0; i < n; ++i) ids[i] = i;
    const IdBitset all_ids = random_filter(ids, 1.0, 1), allowed = random_filter(ids, 0.1, 2);
    const IvfPqIndexSearchParams sp{.nprobe = 16, .refine_factor = 8, .exact_scan_fraction = 0.0};  // always the IVF plan
    double unfiltered = 0, filtered = 0;
    for (std::size_t qi = 0; qi < nq; ++qi) {
        const std::span<const float> q(queries.data() + qi * d, d);
        unfiltered += overlap(index.search(q, k, sp), brute_force(index, q, k, ids, all_ids));
        filtered += overlap(index.search(q, k, sp, allowed), brute_force(index, q, k, ids, allowed));
    }
    unfiltered /= nq;
    filtered /= nq;
    INFO("recall unfiltered " << unfiltered << " at 10% " << filtered);
    CHECK(unfiltered >= 0.9);
    CHECK(filtered >= unfiltered - 0.05);
}

TEST_CASE("ivf-pq prepared queries score like search and stay independent", "[dense][ivfpq][prepare]") {
    const auto base = clustered_vectors(kN, kD, 20, 421);
    const DenseMatrixView<const float> view(base.data(), kN, kD);
    for (const Metric metric : {Metric::inner_product, Metric::l2, Metric::cosine}) {
        for (const bool keep : {true, false}) {
            auto p = small_params(16, 8, 4);
            p.keep_vectors = keep;
            const auto index = IvfPqIndex<>::build(view, metric, p);
            const std::span<const float> q1(base.data() + 3 * kD, kD), q2(base.data() + 700 * kD, kD);
            const auto s1 = index.prepare(q1);
            const auto s2 = index.prepare(q2);  // two live scorers on one thread
            // exact plan over every id = the prepared scores, best first
            const auto exact = index.search(q1, 5, {.exact_scan_fraction = 1.0}, IdFilter::predicate([](std::uint64_t) { return true; }));
            for (const auto& h : exact) CHECK(s1(h.id) == h.score);
            // re-ranked search scores with the prepared scorer's values when vectors are kept
            if (keep)
                for (const auto& h : index.search(q2, 5, {.nprobe = 16, .refine_factor = 50})) CHECK(s2(h.id) == h.score);
            CHECK(s1(3) == index.score(q1, 3));
            CHECK(s2(3) == index.score(q2, 3));
            CHECK(s1(3) != s2(3));
            try {
                (void)s1(static_cast<std::uint32_t>(kN + 5));
                FAIL("no error for an unknown id");
            } catch (const Error& e) {
                CHECK(e.kind() == ErrorKind::out_of_range);
            }
            auto nan_q = std::vector<float>(q1.begin(), q1.end());
            nan_q[0] = std::numeric_limits<float>::quiet_NaN();
            CHECK_THROWS_AS(index.prepare(nan_q), Error);
        }
    }
}

TEST_CASE("ivf-pq build equals construct, train and add, and rejects bad search parameters", "[dense][ivfpq]") {
    const auto base = clustered_vectors(kN, kD, 20, 431);
    const DenseMatrixView<const float> view(base.data(), kN, kD);
    const auto built = IvfPqIndex<>::build(view, Metric::l2, small_params(16, 8, 4));
    IvfPqIndex<> manual(kD, Metric::l2, small_params(16, 8, 4));
    manual.train(view);
    manual.add(view);
    const std::span<const float> q(base.data(), kD);
    CHECK(built.search(q, 10) == manual.search(q, 10));
    CHECK(built.search_batch(view.slice(0, 5), 3, {}, 0) == manual.search_batch(view.slice(0, 5), 3, {}, 2));
    CHECK_THROWS_AS(built.search(q, 10, {.exact_scan_fraction = 1.5}), Error);
    CHECK_THROWS_AS(built.search(q, 10, {.exact_scan_fraction = -0.1}), Error);
    SearchResults<> out;
    built.search_into(q, 10, out);
    CHECK(out == built.search(q, 10));
}

TEST_CASE("coarse quantizer: assign is the first cell probe returns", "[dense][ivfpq][coarse]") {
    const auto base = clustered_vectors(2000, kD, 20, 441);
    const DenseMatrixView<const float> view(base.data(), 2000, kD);
    KMeans km(KMeansParams{.k = 37, .iterations = 4});
    km.train(view);
    const CoarseQuantizer coarse(km.centroids());
    const auto assign = coarse.assign(view, 2);
    CoarseQuantizer::Scratch s;
    for (std::size_t i = 0; i < 2000; ++i) {
        const auto probes = coarse.probe(view.row_data(i), 5, s);
        REQUIRE(probes.size() == 5);
        CHECK(probes[0].list == assign[i]);
        // probes are nearest first
        for (std::size_t j = 1; j < 5; ++j)
            CHECK(simd::l2_squared(view.row_data(i), coarse.centroid(probes[j - 1].list), kD) <=
                  simd::l2_squared(view.row_data(i), coarse.centroid(probes[j].list), kD) * (1 + 1e-5f) + 1e-5f);
    }
}

TEST_CASE("inverted lists: the id-to-position map finds every code after removals, both layouts", "[dense][ivfpq][lists]") {
    for (const std::size_t nbits : {4u, 8u}) {
        const std::size_t nlist = 5, m = 7, n = 500;
        InvertedLists lists(nlist, m, nbits);
        std::mt19937 rng(3);
        std::uniform_int_distribution<int> code(0, nbits == 4 ? 15 : 255), list(0, nlist - 1);
        std::vector<std::vector<std::uint8_t>> codes(n, std::vector<std::uint8_t>(m));
        for (std::size_t i = 0; i < n; ++i) {
            for (auto& c : codes[i]) c = static_cast<std::uint8_t>(code(rng));
            CHECK(lists.append(static_cast<std::uint32_t>(list(rng)), codes[i].data()) == i);
        }
        std::set<std::uint32_t> live;
        for (std::uint32_t i = 0; i < n; ++i) live.insert(i);
        for (std::uint32_t i = 0; i < n; i += 3) {
            CHECK(lists.remove(i));
            live.erase(i);
        }
        CHECK_FALSE(lists.remove(0));
        CHECK(lists.live() == live.size());
        std::vector<std::uint8_t> got(m);
        std::size_t in_lists = 0;
        for (std::size_t l = 0; l < nlist; ++l) {
            const auto& v = lists.list(l);
            CHECK(v.codes != nullptr);
            CHECK(lists.code_bytes_for(v.size) <= lists.code_bytes_for(v.size + 1));
            for (std::size_t i = 0; i < v.size; ++i) {
                CHECK(live.count(v.ids[i]) == 1);
                CHECK(lists.list_of(v.ids[i]) == l);
            }
            in_lists += v.size;
        }
        CHECK(in_lists == live.size());
        for (const auto id : live) {
            lists.code_of(id, got.data());
            CHECK(got == codes[id]);
        }
    }
}

TEST_CASE("ivf-pq load maps lists, ids and centroids and copies on the first mutation", "[dense][ivfpq][io]") {
    TempDir dir;
    const auto base = clustered_vectors(kN, kD, 20, 451);
    const DenseMatrixView<const float> view(base.data(), kN, kD);
    auto index = IvfPqIndex<>::build(view, Metric::inner_product, small_params(16, 8, 4));
    index.remove(std::vector<std::uint32_t>{1, 2, 3});
    const std::string path = dir.file("ivf.bin");
    index.save(path);
    auto loaded = IvfPqIndex<>::load(path);
    CHECK(loaded.inverted_lists().is_mapped());
    CHECK(loaded.coarse_quantizer().centroids().is_mapped());
    CHECK(loaded.pq().codebooks_mapped());
    CHECK(loaded.inverted_lists().memory_bytes() < index.inverted_lists().memory_bytes() / 2);  // only the views and the map
    const std::span<const float> q(base.data() + 10 * kD, kD);
    const auto before = loaded.search(q, 10);
    CHECK(before == index.search(q, 10));
    const auto copy = loaded;  // a copy shares the mapping
    CHECK(copy.search(q, 10) == before);
    loaded.remove(std::vector<std::uint32_t>{before[0].id});
    CHECK_FALSE(loaded.inverted_lists().is_mapped());
    CHECK(loaded.size() == index.size() - 1);
    CHECK(copy.search(q, 10) == before);  // the copy still reads the file
    CHECK(loaded.search(q, 10)[0].id != before[0].id);
    loaded.add(view.slice(0, 2));
    CHECK(loaded.size() == index.size() + 1);
}

TEST_CASE("ivf-pq with explicit ids ranks equal scores by the reported id, saved and loaded too", "[dense][ivfpq]") {
    // 30 distinct vectors, each stored 10 times under decreasing external ids: a query equal to one of them finds
    // its 10 copies with one exact (f32 re-ranked) score, which must come out by increasing external id
    const std::size_t distinct = 30, copies = 10, d = 8, n = distinct * copies;
    const auto base = clustered_vectors(distinct, d, 5, 21);
    std::vector<float> rows(n * d);
    std::vector<std::uint64_t> ids(n);
    for (std::size_t i = 0; i < n; ++i) {
        std::copy_n(base.begin() + static_cast<std::ptrdiff_t>((i % distinct) * d), d, rows.begin() + static_cast<std::ptrdiff_t>(i * d));
        ids[i] = 100000 - 7 * i;
    }
    IvfPqIndexBuildParams p;
    p.nlist = 4;
    p.m = 4;
    p.refine_encoding = VectorEncoding::f32;
    p.threads = 1;
    IvfPqIndex<std::uint64_t> index(d, Metric::inner_product, p);
    const DenseMatrixView<const float> view(rows.data(), n, d);
    index.train(view);
    index.add(view, ids);
    TempDir dir;
    index.save(dir.file("ivf.sdx"));
    const auto loaded = IvfPqIndex<std::uint64_t>::load(dir.file("ivf.sdx"));
    const IvfPqIndex<std::uint64_t>* both[] = {&index, &loaded};
    for (const auto* ix : both) {
        for (std::size_t q = 0; q < distinct; q += 7) {
            const auto hits = ix->search(std::span<const float>(base.data() + q * d, d), copies, {.nprobe = 4, .refine_factor = 10});
            REQUIRE(hits.size() == copies);
            for (std::size_t r = 1; r < hits.size(); ++r) {
                REQUIRE(hits[r].score <= hits[r - 1].score);
                if (hits[r].score == hits[r - 1].score) REQUIRE(hits[r].id > hits[r - 1].id);
            }
        }
    }
}
