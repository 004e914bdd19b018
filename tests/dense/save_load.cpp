#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "sparsedense/dense/flat_index.hpp"
#include "sparsedense/dense/ivf_pq_index.hpp"
#include "support/damaged_files.hpp"
#include "support/temp_dir.hpp"
#include "support/test_support.hpp"

using namespace sparsedense;
using sparsedense::testing::clustered_vectors;
using sparsedense::testing::TempDir;


TEST_CASE("flat index save/load round-trips bit-identically, damaged files throw", "[dense][flat][io]") {
    TempDir dir;
    const std::size_t n = 700, d = 20;
    const auto base = clustered_vectors(n, d, 10, 201);
    for (VectorEncoding enc : {VectorEncoding::f32, VectorEncoding::f16, VectorEncoding::bf16, VectorEncoding::int8_per_vector,
                               VectorEncoding::int8_per_dimension, VectorEncoding::int4_per_dimension}) {
        FlatIndex index(d, Metric::cosine, enc);
        index.add(base);
        const std::string path = dir.file("flat.bin"), again = dir.file("flat2.bin");
        index.save(path);
        const FlatIndex loaded = FlatIndex::load(path);
        CHECK(loaded.size() == n);
        CHECK(loaded.storage() == enc);
        CHECK(loaded.metric() == Metric::cosine);
        loaded.save(again);
        CHECK(sparsedense::testing::slurp(path) == sparsedense::testing::slurp(again));
        for (std::size_t q = 0; q < n; q += 71) CHECK(loaded.search({base.data() + q * d, d}, 5) == index.search({base.data() + q * d, d}, 5));
        if (enc == VectorEncoding::f32) sparsedense::testing::require_damaged_copies_rejected(path, dir, [](const std::string& p) { return FlatIndex::load(p); });
    }
    // another index kind's file is rejected
    IvfPqIndex<> other(d, Metric::l2, IvfPqIndexBuildParams{.nlist = 4, .m = 4, .nbits = 4, .pq_iterations = 3});
    other.train(DenseMatrixView<const float>(base.data(), n, d));
    other.save(dir.file("ivf.bin"));
    CHECK_THROWS_AS(FlatIndex::load(dir.file("ivf.bin")), Error);
}

TEMPLATE_TEST_CASE("ivf-pq save/load round-trips bit-identically, damaged files throw", "[dense][ivfpq][io]", std::uint32_t, std::uint64_t) {
    TempDir dir;
    const std::size_t n = 1500, d = 24;
    const auto base = clustered_vectors(n, d, 12, 301);
    const DenseMatrixView<const float> view(base.data(), n, d);
    struct Case {
        std::size_t nbits;
        bool keep, opq, explicit_ids;
        Metric metric;
    };
    for (const Case c : {Case{4, true, false, false, Metric::inner_product}, Case{8, true, false, true, Metric::l2},
                         Case{4, false, true, true, Metric::cosine}, Case{4, true, false, true, Metric::l2}}) {
        IvfPqIndexBuildParams p{.nlist = 12, .m = 6, .nbits = c.nbits, .keep_vectors = c.keep, .refine_encoding = VectorEncoding::bf16,
                      .coarse_iterations = 5, .pq_iterations = 5};
        IvfPqIndex<TestType> index(d, c.metric, p);
        index.train(view, c.opq ? sparsedense::testing::random_rotation(d, 17) : DenseMatrix<float>{});
        std::vector<TestType> ids(n);
        for (std::size_t i = 0; i < n; ++i) ids[i] = static_cast<TestType>(10 * i + 3);
        if (c.explicit_ids) index.add(view, ids);
        else index.add(view);
        std::vector<TestType> gone;
        for (std::size_t i = 0; i < n; i += 5) gone.push_back(c.explicit_ids ? ids[i] : static_cast<TestType>(i));
        index.remove(gone);
        const std::string path = dir.file("ivf.bin"), again = dir.file("ivf2.bin");
        index.save(path);
        const auto loaded = IvfPqIndex<TestType>::load(path);
        CHECK(loaded.size() == index.size());
        loaded.save(again);
        CHECK(sparsedense::testing::slurp(path) == sparsedense::testing::slurp(again));
        const IvfPqIndexSearchParams sp{.nprobe = 5, .refine_factor = 4};
        for (std::size_t q = 0; q < n; q += 97) CHECK(loaded.search({base.data() + q * d, d}, 7, sp) == index.search({base.data() + q * d, d}, 7, sp));
        // the loaded index accepts more vectors like the original
        auto grown = IvfPqIndex<TestType>::load(path);
        if (c.explicit_ids) {
            const std::vector<TestType> more{static_cast<TestType>(1)};
            grown.add(view.slice(0, 1), more);
        } else {
            grown.add(view.slice(0, 1));
        }
        CHECK(grown.size() == index.size() + 1);
        if (c.nbits == 4 && c.keep && !c.explicit_ids)
            sparsedense::testing::require_damaged_copies_rejected(path, dir, [](const std::string& f) { return IvfPqIndex<TestType>::load(f); });
    }
    // ids of the other width are rejected
    IvfPqIndex<TestType> small(d, Metric::l2, IvfPqIndexBuildParams{.nlist = 4, .m = 4, .nbits = 4, .pq_iterations = 3});
    small.train(view);
    small.save(dir.file("small.bin"));
    using Other = std::conditional_t<std::is_same_v<TestType, std::uint32_t>, std::uint64_t, std::uint32_t>;
    CHECK_THROWS_AS(IvfPqIndex<Other>::load(dir.file("small.bin")), Error);
    CHECK_THROWS_AS(IvfPqIndex<TestType>(d, Metric::l2).save(dir.file("untrained.bin")), Error);
}

TEST_CASE("ivf-pq loads format 1 files, which have no positions section", "[dense][ivfpq][io]") {
    TempDir dir;
    const std::size_t n = 1200, d = 16;
    const auto base = clustered_vectors(n, d, 10, 311);
    const DenseMatrixView<const float> view(base.data(), n, d);
    auto p = IvfPqIndexBuildParams{.nlist = 8, .m = 4, .nbits = 4, .keep_vectors = false, .coarse_iterations = 4, .pq_iterations = 4};
    auto index = IvfPqIndex<>::build(view, Metric::l2, p);
    index.remove(std::vector<std::uint32_t>{0, 5, 17, 400});
    const std::string path = dir.file("v2.bin"), old = dir.file("v1.bin");
    index.save(path);
    {  // rewrite the same sections, minus positions, as version 1
        const io::SectionReader r(path, "IvfPqIndex", 2, 2);
        io::SectionWriter w("IvfPqIndex", 1);
        w.add_value("meta", r.value<ivf_pq_file::Meta>("meta"));
        for (const char* name : {"centroids", "rotation", "codebooks"}) w.add<float>(name, r.span<float>(name));
        for (const char* name : {"id_offsets", "code_offsets"}) w.add<std::uint64_t>(name, r.span<std::uint64_t>(name));
        for (const char* name : {"list_ids", "external", "list_of"}) w.add<std::uint32_t>(name, r.span<std::uint32_t>(name));
        w.add<std::uint8_t>("codes", r.span<std::uint8_t>("codes"));
        w.write(old);
    }
    auto loaded = IvfPqIndex<>::load(old);
    CHECK(loaded.size() == index.size());
    const IvfPqIndexSearchParams sp{.nprobe = 8, .refine_factor = 0};
    for (std::size_t q = 0; q < n; q += 101) CHECK(loaded.search({base.data() + q * d, d}, 5, sp) == index.search({base.data() + q * d, d}, 5, sp));
    // the recomputed positions serve removal and the decoded scores
    CHECK(loaded.remove(std::vector<std::uint32_t>{1, 2, 3}) == 3);
    CHECK(loaded.score({base.data() + 50 * d, d}, 50) == index.score({base.data() + 50 * d, d}, 50));
}
