// Writes the library-written seed files of the fuzz corpora into OUT_DIR/<target>/: small index files of every
// kind and option (precisions, encodings, metrics, 4- and 8-bit PQ, OPQ, explicit ids, k-NN graph), and small
// CSR / fvecs / ivecs / bvecs files. Deterministic (fixed seeds). usage: sparsedense_fuzz_seeds OUT_DIR
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "sparsedense/dense/flat_index.hpp"
#include "sparsedense/dense/ivf_pq_index.hpp"
#include "sparsedense/io/csr_file.hpp"
#include "sparsedense/io/vecs_file.hpp"
#include "sparsedense/sparse/clustered_inverted_index.hpp"
#include "sparsedense/sparse/inverted_index.hpp"

using namespace sparsedense;
namespace fs = std::filesystem;

static CsrMatrix<float> sparse_rows(std::size_t rows, std::size_t dim, std::size_t nnz, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::uint32_t> term(0, static_cast<std::uint32_t>(dim - 1));
    std::uniform_real_distribution<float> weight(0.05f, 2.0f);
    CsrMatrix<float> m(dim);
    for (std::size_t r = 0; r < rows; ++r) {
        std::vector<std::uint32_t> ids(nnz);
        for (auto& t : ids) t = term(rng);
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        std::vector<float> values(ids.size());
        for (auto& v : values) v = weight(rng);
        m.push_back({ids, values});
    }
    return m;
}

static DenseMatrix<float> dense_rows(std::size_t rows, std::size_t dim, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    DenseMatrix<float> m(rows, dim);
    for (std::size_t i = 0; i < rows * dim; ++i) m.data()[i] = normal(rng);
    return m;
}

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
        return 2;
    }
    const fs::path out = argv[1];
    auto dir = [&](const char* target) {
        fs::create_directories(out / target);
        return out / target;
    };
    const auto docs = sparse_rows(40, 48, 6, 1);

    for (auto precision : {WeightPrecision::f32, WeightPrecision::f16, WeightPrecision::u8})
        for (std::size_t block : {std::size_t{4}, std::size_t{64}}) {
            InvertedIndexBuildParams p;
            p.precision = precision;
            p.block_size = block;
            p.threads = 1;
            InvertedIndex::build(docs, p).save((dir("inverted_index_load") / ("lib-p" + std::to_string(static_cast<int>(precision)) + "-b" +
                                                                              std::to_string(block) + ".sdx")).string());
        }

    int n = 0;
    for (auto precision : {WeightPrecision::f32, WeightPrecision::f16, WeightPrecision::u8})
        for (auto pruning : {PruningStrategy::fixed_size, PruningStrategy::global_threshold}) {
            ClusteredInvertedIndexBuildParams p;
            p.forward_values = precision;
            p.pruning = pruning;
            p.lambda = 12;
            p.knn = n % 2 ? 3 : 0;
            p.summary_max_terms = n % 3 == 2 ? 4 : 0;
            p.threads = 1;
            ClusteredInvertedIndex::build(docs, p).save((dir("clustered_index_load") / ("lib-" + std::to_string(n++) + ".sdx")).string());
        }

    const auto base = dense_rows(48, 8, 2);
    n = 0;
    for (auto enc : {VectorEncoding::f32, VectorEncoding::f16, VectorEncoding::bf16, VectorEncoding::int8_per_vector, VectorEncoding::int8_per_dimension})
        for (auto metric : {Metric::inner_product, Metric::l2, Metric::cosine}) {
            if (n++ % 2 && metric != Metric::l2) continue;  // every encoding, every metric, not every pair
            FlatIndexBuildParams p;
            p.storage = enc;
            FlatIndex::build(base.view(), metric, p)
                .save((dir("flat_index_load") / ("lib-e" + std::to_string(static_cast<int>(enc)) + "-m" + std::to_string(static_cast<int>(metric)) +
                                                 ".sdx")).string());
        }

    const auto train = dense_rows(256, 8, 3);
    n = 0;
    for (std::size_t nbits : {std::size_t{4}, std::size_t{8}})
        for (int variant = 0; variant < 3; ++variant) {
            IvfPqIndexBuildParams p;
            p.nlist = 4;
            p.m = 4;
            p.nbits = nbits;
            p.by_residual = variant != 1;
            p.keep_vectors = variant != 2;
            p.refine_encoding = variant == 0 ? VectorEncoding::f32 : VectorEncoding::int8_per_vector;
            p.pq_training_points = 256;
            p.threads = 1;
            const Metric metric = variant == 1 ? Metric::l2 : Metric::inner_product;
            IvfPqIndex<> ix(8, metric, p);
            if (variant == 2) {  // an OPQ-style rotation (a permutation) and explicit ids
                DenseMatrix<float> rot(8, 8, 0.0f);
                for (std::size_t i = 0; i < 8; ++i) rot[i][(i + 3) % 8] = 1.0f;
                ix.train(train.view(), std::move(rot));
                std::vector<std::uint32_t> ids(48);
                for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::uint32_t>(1000 + 7 * i);
                ix.add(base.view(), ids);
            } else {
                ix.train(train.view());
                ix.add(base.view());
            }
            ix.save((dir("ivf_pq_index_load") / ("lib-" + std::to_string(n++) + ".sdx")).string());
        }

    io::write_csr((dir("csr") / "lib-small.csr").string(), sparse_rows(12, 30, 5, 4));
    io::write_csr((dir("csr") / "lib-empty-rows.csr").string(), CsrMatrix<float>(5));
    const auto small = dense_rows(6, 4, 5);
    io::write_fvecs((dir("fvecs") / "lib-small.fvecs").string(), small.view());
    DenseMatrix<std::int32_t> iv(5, 3);
    for (std::size_t i = 0; i < 15; ++i) iv.data()[i] = static_cast<std::int32_t>(i * 37 - 100);
    io::write_ivecs((dir("ivecs") / "lib-small.ivecs").string(), iv.view());
    DenseMatrix<std::uint8_t> bv(4, 16);
    for (std::size_t i = 0; i < 64; ++i) bv.data()[i] = static_cast<std::uint8_t>(i * 11);
    io::write_bvecs((dir("bvecs") / "lib-small.bvecs").string(), bv.view());
    std::printf("seeds written to %s\n", out.string().c_str());
    return 0;
}
