// python/src/hybrid.cpp -- Fusion (FusionParams), fuse() of two result lists per query, and HybridSearcher over any
// sparse index of the module with any dense one (the C++ HybridSearcher<Sparse, Dense>, one instantiation per pair).
#include <nanobind/stl/unique_ptr.h>

#include "params.hpp"
#include "sparsedense/hybrid/fusion.hpp"
#include "sparsedense/hybrid/hybrid_searcher.hpp"

namespace sdpy {

namespace {

sd::ScoreNormalization parse_normalization(const std::string& s) {
    if (s == "none") return sd::ScoreNormalization::none;
    if (s == "min_max") return sd::ScoreNormalization::min_max;
    if (s == "centered_min_max") return sd::ScoreNormalization::centered_min_max;
    if (s == "z_score") return sd::ScoreNormalization::z_score;
    if (s == "dbsf") return sd::ScoreNormalization::dbsf;
    bad_argument("normalization must be one of none, min_max, centered_min_max, z_score, dbsf; got '" + s + "'");
}

sd::MissingScore parse_missing(const std::string& s) {
    for (auto m : {sd::MissingScore::automatic, sd::MissingScore::exact, sd::MissingScore::list_minimum, sd::MissingScore::zero})
        if (s == sd::missing_score_name(m)) return m;
    bad_argument("missing must be one of automatic, exact, list_minimum, zero; got '" + s + "'");
}

/// One query's result list from padded arrays (ids < 0 end the list).
sd::SearchResults<> list_from_arrays(const std::int64_t* ids, const float* scores, std::size_t n, const char* side) {
    sd::SearchResults<> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (ids[i] < 0) break;
        if (ids[i] > 0xFFFFFFFFLL) throw sd::Error(sd::ErrorKind::out_of_range, std::string("fuse: ") + side + " id " + std::to_string(ids[i]) + " exceeds 2^32 - 1");
        out.push_back({static_cast<std::uint32_t>(ids[i]), scores[i]});
    }
    return out;
}

struct PairArrays {
    nb::object ids_keep, scores_keep;
    const std::int64_t* ids;
    const float* scores;
    std::size_t rows, cols;
};

PairArrays pair_arrays(nb::handle ids, nb::handle scores, const char* side) {
    PairArrays p;
    p.ids_keep = numpy().attr("ascontiguousarray")(ids, "dtype"_a = numpy().attr("int64"));
    p.scores_keep = numpy().attr("ascontiguousarray")(scores, "dtype"_a = numpy().attr("float32"));
    if (nb::cast<std::size_t>(p.ids_keep.attr("ndim")) == 1) {
        p.ids_keep = p.ids_keep.attr("reshape")(1, -1);
        p.scores_keep = p.scores_keep.attr("reshape")(1, -1);
    }
    nb::ndarray<const std::int64_t, nb::ndim<2>, nb::c_contig, nb::device::cpu> ia;
    nb::ndarray<const float, nb::ndim<2>, nb::c_contig, nb::device::cpu> sa;
    if (!nb::try_cast(p.ids_keep, ia, false) || !nb::try_cast(p.scores_keep, sa, false))
        throw sd::Error(sd::ErrorKind::dimension_mismatch, std::string("fuse: ") + side + " ids and scores must be 1-D or 2-D arrays");
    if (ia.shape(0) != sa.shape(0) || ia.shape(1) != sa.shape(1))
        throw sd::Error(sd::ErrorKind::dimension_mismatch, std::string("fuse: ") + side + " ids and scores differ in shape");
    p.ids = ia.data();
    p.scores = sa.data();
    p.rows = ia.shape(0);
    p.cols = ia.shape(1);
    return p;
}

/// HybridSearcher with its index types erased.
struct HybridBase {
    virtual ~HybridBase() = default;
    virtual nb::tuple search(nb::handle sq, nb::handle dq, std::size_t k, std::size_t k0s, std::size_t k0d, const sd::FusionParams& f,
                             const nb::dict& sp, const nb::dict& dp, nb::handle filter) const = 0;
    virtual nb::tuple search_batch(nb::handle sq, nb::handle dq, std::size_t k, std::size_t k0s, std::size_t k0d, const sd::FusionParams& f,
                                   const nb::dict& sp, const nb::dict& dp, std::size_t threads, nb::handle filter) const = 0;
};

template <class S, class D>
struct HybridImpl final : HybridBase {
    using Searcher = sd::HybridSearcher<S, D>;
    Searcher searcher;
    HybridImpl(const S& s, const D& d) : searcher(s, d) {}

    typename Searcher::params_type params(std::size_t k0s, std::size_t k0d, const sd::FusionParams& f, const nb::dict& sp, const nb::dict& dp) const {
        typename Searcher::params_type p;
        p.k0_sparse = k0s;
        p.k0_dense = k0d;
        p.fusion = f;
        p.sparse = params_from_dict<typename S::search_params_type>(sp);
        p.dense = params_from_dict<typename D::search_params_type>(dp);
        return p;
    }

    nb::tuple search(nb::handle sq, nb::handle dq, std::size_t k, std::size_t k0s, std::size_t k0d, const sd::FusionParams& f,
                     const nb::dict& sp, const nb::dict& dp, nb::handle filter) const override {
        const auto p = params(k0s, k0d, f, sp, dp);
        const SparseQueryInput s = sparse_query_input(sq);
        const DenseInput d = dense_input(dq, false, "dense query");
        const FilterInput fi = filter_input(filter);
        sd::SearchResults<> r;
        {
            nb::gil_scoped_release release;
            r = searcher.search(s.view, d.row(), k, p, fi.filter());
        }
        return results_to_python(r, k);
    }

    nb::tuple search_batch(nb::handle sq, nb::handle dq, std::size_t k, std::size_t k0s, std::size_t k0d, const sd::FusionParams& f,
                           const nb::dict& sp, const nb::dict& dp, std::size_t threads, nb::handle filter) const override {
        const auto p = params(k0s, k0d, f, sp, dp);
        const CsrInput s = csr_input(sq, "sparse queries");
        const DenseInput d = dense_input(dq, true, "dense queries");
        const FilterInput fi = filter_input(filter);
        std::vector<sd::SearchResults<>> all;
        {
            nb::gil_scoped_release release;
            all = searcher.search_batch(s.view, d.view(), k, p, threads, fi.filter());
        }
        return batch_to_python(all, k);
    }
};

template <class S>
std::unique_ptr<HybridBase> make_with_dense(const S& s, nb::handle dense) {
    if (nb::isinstance<sd::FlatIndex>(dense)) return std::make_unique<HybridImpl<S, sd::FlatIndex>>(s, *nb::inst_ptr<sd::FlatIndex>(dense));
    if (nb::isinstance<PyIvfPq>(dense)) return std::make_unique<HybridImpl<S, PyIvfPq>>(s, *nb::inst_ptr<PyIvfPq>(dense));
    if (nb::isinstance<sd::HnswIndex>(dense)) return std::make_unique<HybridImpl<S, sd::HnswIndex>>(s, *nb::inst_ptr<sd::HnswIndex>(dense));
    bad_argument("HybridSearcher: the dense index must be a FlatIndex, IvfPqIndex or HnswIndex");
}

struct PyHybrid {
    nb::object sparse, dense;  // keep the indexes alive
    std::unique_ptr<HybridBase> impl;
    std::size_t k0_sparse, k0_dense;
    sd::FusionParams fusion;
    nb::dict sparse_params, dense_params;
};

nb::dict dict_or_empty(nb::handle h) { return h.is_none() ? nb::dict() : nb::cast<nb::dict>(h); }

}  // namespace

void register_hybrid(nb::module_& m) {
    nb::class_<sd::FusionParams>(m, "Fusion",
                                 "How a sparse and a dense candidate list are fused: a convex combination of per-list normalized "
                                 "scores (Bruch, Gai & Ingber, TOIS 2023) or reciprocal rank fusion (Cormack et al., SIGIR 2009). "
                                 "Build with Fusion.convex(...) or Fusion.rrf(...).")
        .def_static(
            "convex",
            [](double alpha, const std::string& normalization, const std::string& missing) {
                auto p = sd::FusionParams::convex(parse_normalization(normalization), alpha, parse_missing(missing));
                p.validate();
                return p;
            },
            "alpha"_a = 0.5, "normalization"_a = "min_max", "missing"_a = "automatic",
            "fused = alpha x N(sparse) + (1 - alpha) x N(dense).\n\nnormalization: 'min_max', 'z_score' (population sigma), "
            "'dbsf' (Qdrant: (s - (mu - 3 sigma)) / 6 sigma, sample sigma), 'centered_min_max' (Pyserini) or 'none'.\n"
            "missing: the score a document gets on the side that did not retrieve it: 'exact' (the other index scores it), "
            "'list_minimum' (Pyserini), 'zero' (ranx / normalized 0), 'automatic' (exact when the searcher can score, else list_minimum).")
        .def_static(
            "rrf",
            [](double k, double sparse_weight, double dense_weight) {
                auto p = sd::FusionParams::rrf(k, sparse_weight, dense_weight);
                p.validate();
                return p;
            },
            "k"_a = 60.0, "sparse_weight"_a = 1.0, "dense_weight"_a = 1.0,
            "Weighted reciprocal rank fusion: sum over lists of weight / (k + rank), ranks from 1.")
        .def_prop_ro("method", [](const sd::FusionParams& p) { return std::string(p.method == sd::FusionMethod::rrf ? "rrf" : "convex"); })
        .def_prop_ro("alpha", [](const sd::FusionParams& p) { return p.alpha; })
        .def_prop_ro("normalization", [](const sd::FusionParams& p) { return std::string(sd::normalization_name(p.normalization)); })
        .def_prop_ro("missing", [](const sd::FusionParams& p) { return std::string(sd::missing_score_name(p.missing)); })
        .def_prop_ro("rrf_k", [](const sd::FusionParams& p) { return p.rrf_k; })
        .def_prop_ro("sparse_weight", [](const sd::FusionParams& p) { return p.sparse_weight; })
        .def_prop_ro("dense_weight", [](const sd::FusionParams& p) { return p.dense_weight; })
        .def("__repr__", [](const sd::FusionParams& p) {
            if (p.method == sd::FusionMethod::rrf)
                return "Fusion.rrf(k=" + std::to_string(p.rrf_k) + ", sparse_weight=" + std::to_string(p.sparse_weight) +
                       ", dense_weight=" + std::to_string(p.dense_weight) + ")";
            return "Fusion.convex(alpha=" + std::to_string(p.alpha) + ", normalization='" + sd::normalization_name(p.normalization) +
                   "', missing='" + sd::missing_score_name(p.missing) + "')";
        });

    m.def(
        "fuse",
        [](nb::handle sparse_ids, nb::handle sparse_scores, nb::handle dense_ids, nb::handle dense_scores, long long k, const sd::FusionParams& f) {
            const std::size_t kk = check_k(k, "fuse");
            f.validate();
            const PairArrays s = pair_arrays(sparse_ids, sparse_scores, "sparse");
            const PairArrays d = pair_arrays(dense_ids, dense_scores, "dense");
            if (s.rows != d.rows)
                throw sd::Error(sd::ErrorKind::dimension_mismatch,
                                "fuse: " + std::to_string(s.rows) + " sparse queries but " + std::to_string(d.rows) + " dense queries");
            std::vector<sd::SearchResults<>> all(s.rows);
            {
                nb::gil_scoped_release release;
                for (std::size_t q = 0; q < s.rows; ++q)
                    all[q] = sd::fuse(list_from_arrays(s.ids + q * s.cols, s.scores + q * s.cols, s.cols, "sparse"),
                                      list_from_arrays(d.ids + q * d.cols, d.scores + q * d.cols, d.cols, "dense"), f, kk);
            }
            return batch_to_python(all, kk);
        },
        "sparse_ids"_a, "sparse_scores"_a, "dense_ids"_a, "dense_scores"_a, "k"_a = 10, "fusion"_a = sd::FusionParams{},
        "Fuses two result lists per query (arrays (nq, k0) as returned by search_batch, -1 padding ignored) without exact "
        "re-scoring: 'automatic' missing scores mean 'list_minimum'. Returns (ids (nq, k), scores (nq, k)).");

    nb::class_<PyHybrid>(m, "HybridSearcher",
                         "Searches a sparse index and a dense index over the same documents (ids 0..n-1 on both) and fuses the two "
                         "candidate lists. Documents found by one side only get their exact score on the other side from that index's "
                         "stored data (convex fusion, missing='automatic' or 'exact').")
        .def(
            "__init__",
            [](PyHybrid* self, nb::handle sparse, nb::handle dense, long long k0_sparse, long long k0_dense, const sd::FusionParams& fusion,
               nb::handle sparse_params, nb::handle dense_params) {
                std::unique_ptr<HybridBase> impl;
                if (nb::isinstance<sd::InvertedIndex>(sparse)) impl = make_with_dense(*nb::inst_ptr<sd::InvertedIndex>(sparse), dense);
                else if (nb::isinstance<sd::ClusteredInvertedIndex>(sparse))
                    impl = make_with_dense(*nb::inst_ptr<sd::ClusteredInvertedIndex>(sparse), dense);
                else bad_argument("HybridSearcher: the sparse index must be an InvertedIndex or ClusteredInvertedIndex");
                fusion.validate();
                new (self) PyHybrid{nb::borrow(sparse), nb::borrow(dense), std::move(impl), to_size(k0_sparse, "k0_sparse"),
                                    to_size(k0_dense, "k0_dense"), fusion, dict_or_empty(sparse_params), dict_or_empty(dense_params)};
            },
            "sparse"_a, "dense"_a, nb::kw_only(), "k0_sparse"_a = 100, "k0_dense"_a = 100, "fusion"_a = sd::FusionParams{},
            "sparse_params"_a = nb::none(), "dense_params"_a = nb::none(),
            "sparse: InvertedIndex or ClusteredInvertedIndex; dense: FlatIndex, IvfPqIndex or HnswIndex (same documents).\n"
            "k0_sparse / k0_dense: candidate depth of each side (0 = the final k).\nfusion: a Fusion (default: convex, min_max, "
            "alpha 0.5, exact missing scores).\nsparse_params / dense_params: dicts of that index's search keywords, e.g. "
            "{'query_cut': 12} / {'nprobe': 32}. Each can be overridden per call.")
        .def(
            "search",
            [](const PyHybrid& h, nb::handle sq, nb::handle dq, long long k, nb::handle fusion, nb::handle k0_sparse, nb::handle k0_dense,
               nb::handle sparse_params, nb::handle dense_params, nb::handle filter) {
                const std::size_t kk = check_k(k, "HybridSearcher.search");
                const sd::FusionParams f = fusion.is_none() ? h.fusion : nb::cast<sd::FusionParams>(fusion);
                return h.impl->search(sq, dq, kk, k0_sparse.is_none() ? h.k0_sparse : to_size(nb::cast<long long>(k0_sparse), "k0_sparse"),
                                      k0_dense.is_none() ? h.k0_dense : to_size(nb::cast<long long>(k0_dense), "k0_dense"), f,
                                      sparse_params.is_none() ? h.sparse_params : nb::cast<nb::dict>(sparse_params),
                                      dense_params.is_none() ? h.dense_params : nb::cast<nb::dict>(dense_params), filter);
            },
            "sparse_query"_a, "dense_query"_a, "k"_a = 10, nb::kw_only(), "fusion"_a = nb::none(), "k0_sparse"_a = nb::none(),
            "k0_dense"_a = nb::none(), "sparse_params"_a = nb::none(), "dense_params"_a = nb::none(), "filter"_a = nb::none(),
            "Fused top-k of one query pair (sparse: (indices, values) or a one-row CSR; dense: 1-D float32). Keywords left None "
            "take the searcher's defaults. Returns (ids int64 (k,), scores float32 (k,)), padded with -1 / -inf.")
        .def(
            "search_batch",
            [](const PyHybrid& h, nb::handle sq, nb::handle dq, long long k, nb::handle fusion, nb::handle k0_sparse, nb::handle k0_dense,
               nb::handle sparse_params, nb::handle dense_params, long long threads, nb::handle filter) {
                const std::size_t kk = check_k(k, "HybridSearcher.search_batch");
                const sd::FusionParams f = fusion.is_none() ? h.fusion : nb::cast<sd::FusionParams>(fusion);
                return h.impl->search_batch(sq, dq, kk, k0_sparse.is_none() ? h.k0_sparse : to_size(nb::cast<long long>(k0_sparse), "k0_sparse"),
                                            k0_dense.is_none() ? h.k0_dense : to_size(nb::cast<long long>(k0_dense), "k0_dense"), f,
                                            sparse_params.is_none() ? h.sparse_params : nb::cast<nb::dict>(sparse_params),
                                            dense_params.is_none() ? h.dense_params : nb::cast<nb::dict>(dense_params), to_size(threads, "threads"),
                                            filter);
            },
            "sparse_queries"_a, "dense_queries"_a, "k"_a = 10, nb::kw_only(), "fusion"_a = nb::none(), "k0_sparse"_a = nb::none(),
            "k0_dense"_a = nb::none(), "sparse_params"_a = nb::none(), "dense_params"_a = nb::none(), "threads"_a = 0, "filter"_a = nb::none(),
            "Fused top-k of every query pair (row i of the CSR with row i of the (nq, d) array), in order, on `threads` threads "
            "(0 = every core). Returns (ids (nq, k), scores (nq, k)).")
        .def_prop_ro("sparse", [](const PyHybrid& h) { return h.sparse; })
        .def_prop_ro("dense", [](const PyHybrid& h) { return h.dense; })
        .def_prop_ro("fusion", [](const PyHybrid& h) { return h.fusion; });
}

}  // namespace sdpy
