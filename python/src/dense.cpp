// python/src/dense.cpp -- FlatIndex (exact), IvfPqIndex (IVF + product quantization, u32 ids) and HnswIndex (graph)
// over dense float32 vectors given as numpy arrays.
#include <nanobind/stl/vector.h>

#include "params.hpp"

namespace sdpy {

namespace {

constexpr const char* kSearchDoc =
    "Top-k vectors of one query, best first (scores: inner product, cosine similarity or negated squared L2).\n\n"
    "query: a 1-D float32 array (other dtypes / layouts are converted once).\n"
    "filter: None, a numpy bool mask over ids, an array of allowed ids, or an IdSet.\n"
    "Returns (ids int64 (k,), scores float32 (k,)), padded with -1 / -inf when fewer than k vectors match.";

constexpr const char* kBatchDoc =
    "Top-k vectors of every row of `queries` ((nq, d) float32, C-contiguous: used without copying), in query order, on "
    "`threads` threads (0 = every core; results do not depend on it).\nReturns (ids int64 (nq, k), scores float32 (nq, k)), "
    "padded with -1 / -inf.";

constexpr const char* kMetricDoc = "metric: 'ip' (inner product), 'cosine' or 'l2' (scores are negated squared distances).";

std::vector<std::uint32_t> ids_u32(nb::handle ids, std::size_t expected, const char* what) {
    nb::object a = numpy().attr("ascontiguousarray")(ids, "dtype"_a = numpy().attr("int64"));
    nb::ndarray<const std::int64_t, nb::ndim<1>, nb::c_contig, nb::device::cpu> arr;
    if (!nb::try_cast(a, arr, false)) bad_argument(std::string(what) + ": ids must be a 1-D integer array");
    if (expected != static_cast<std::size_t>(-1) && arr.shape(0) != expected)
        throw sd::Error(sd::ErrorKind::dimension_mismatch,
                        std::string(what) + ": " + std::to_string(expected) + " vectors but " + std::to_string(arr.shape(0)) + " ids");
    std::vector<std::uint32_t> out(arr.shape(0));
    for (std::size_t i = 0; i < out.size(); ++i) {
        const std::int64_t v = arr.data()[i];
        if (v < 0 || v > 0xFFFFFFFFLL)
            throw sd::Error(sd::ErrorKind::out_of_range, std::string(what) + ": id " + std::to_string(v) + " at position " + std::to_string(i) +
                                                             " is outside [0, 2^32)");
        out[i] = static_cast<std::uint32_t>(v);
    }
    return out;
}

sd::IvfPqIndexBuildParams ivf_build_params(long long nlist, long long m, long long nbits, bool by_residual, bool keep_vectors,
                                           const std::string& refine_encoding, long long coarse_iterations, long long coarse_ppc,
                                           long long pq_iterations, long long pq_training_points, std::uint64_t seed, long long threads,
                                           nb::handle progress) {
    sd::IvfPqIndexBuildParams p;
    p.nlist = to_size(nlist, "nlist");
    p.m = to_size(m, "m");
    p.nbits = to_size(nbits, "nbits");
    p.by_residual = by_residual;
    p.keep_vectors = keep_vectors;
    p.refine_encoding = parse_encoding(refine_encoding);
    p.coarse_iterations = to_size(coarse_iterations, "coarse_iterations");
    p.coarse_points_per_centroid = to_size(coarse_ppc, "coarse_points_per_centroid");
    p.pq_iterations = to_size(pq_iterations, "pq_iterations");
    p.pq_training_points = to_size(pq_training_points, "pq_training_points");
    p.seed = seed;
    p.threads = to_size(threads, "threads");
    p.progress = progress_callback(progress);
    return p;
}

}  // namespace

void register_dense(nb::module_& m) {
    using FI = sd::FlatIndex;
    nb::class_<FI> fi(m, "FlatIndex", "Exact (brute-force) dense index: every stored vector scored with SIMD kernels chosen at run time.");
    fi.def_static(
          "build",
          [](nb::handle data, const std::string& metric, const std::string& storage) {
              const DenseInput in = dense_input(data, true, "vectors");
              sd::FlatIndexBuildParams p;
              p.storage = parse_encoding(storage);
              const sd::Metric mt = parse_metric(metric);
              nb::gil_scoped_release release;
              return FI::build(in.view(), mt, p);
          },
          "data"_a, "metric"_a = "ip", nb::kw_only(), "storage"_a = "f32",
          keep_doc(std::string("An index over the rows of `data` ((n, d) float32; ids 0..n-1).\n\n") + kMetricDoc +
                   "\nstorage: 'f32' (exact), 'f16', 'bf16', 'int8', 'int8-dim' or 'int4' (fewer bytes read, larger score error)."))
        .def(
            "add",
            [](FI& i, nb::handle data) {
                const DenseInput in = dense_input(data, true, "vectors");
                nb::gil_scoped_release release;
                i.add(in.view());
            },
            "data"_a, "Appends the rows of `data` (ids continue from len(index)).")
        .def_prop_ro("metric", [](const FI& i) { return metric_string(i.metric()); })
        .def(
            "search",
            [](const FI& i, nb::handle q, long long k, double esf, nb::handle filter) { return search_one<DenseSide>(i, q, k, flat_params(esf), filter); },
            "query"_a, "k"_a = 10, nb::kw_only(), "exact_scan_fraction"_a = 0.05, "filter"_a = nb::none(),
            keep_doc(std::string(kSearchDoc) + "\n\nexact_scan_fraction: plan choice under a filter only (both plans exact)."))
        .def(
            "search_batch",
            [](const FI& i, nb::handle q, long long k, double esf, long long threads, nb::handle filter) {
                return search_many<DenseSide>(i, q, k, flat_params(esf), threads, filter);
            },
            "queries"_a, "k"_a = 10, nb::kw_only(), "exact_scan_fraction"_a = 0.05, "threads"_a = 0, "filter"_a = nb::none(), kBatchDoc);
    bind_common<DenseSide, FI>(fi, "FlatIndex");

    nb::class_<PyIvfPq> ivf(m, "IvfPqIndex",
                            "Inverted-file index with product quantization (FAISS's IVF-PQ; 4-bit fast-scan or 8-bit codes) and "
                            "exact re-ranking from kept vectors. Ids are u32: 0..n-1, or the caller's.");
    ivf.def_static(
           "build",
           [](nb::handle data, const std::string& metric, nb::handle ids, long long nlist, long long mm, long long nbits, bool by_residual,
              bool keep_vectors, const std::string& refine_encoding, long long coarse_iterations, long long coarse_ppc, long long pq_iterations,
              long long pq_training_points, std::uint64_t seed, long long threads, nb::handle progress) {
               const DenseInput in = dense_input(data, true, "vectors");
               const sd::IvfPqIndexBuildParams p = ivf_build_params(nlist, mm, nbits, by_residual, keep_vectors, refine_encoding, coarse_iterations,
                                                                    coarse_ppc, pq_iterations, pq_training_points, seed, threads, progress);
               const sd::Metric mt = parse_metric(metric);
               if (ids.is_none()) {
                   nb::gil_scoped_release release;
                   return PyIvfPq::build(in.view(), mt, p);
               }
               const std::vector<std::uint32_t> idv = ids_u32(ids, in.rows, "IvfPqIndex.build");
               nb::gil_scoped_release release;
               PyIvfPq index(in.cols, mt, p);
               index.train(in.view());
               index.add(in.view(), idv);
               return index;
           },
           "data"_a, "metric"_a = "ip", nb::kw_only(), "ids"_a = nb::none(), "nlist"_a = 1024, "m"_a = 32, "nbits"_a = 4, "by_residual"_a = true,
           "keep_vectors"_a = true, "refine_encoding"_a = "f16", "coarse_iterations"_a = 10, "coarse_points_per_centroid"_a = 64,
           "pq_iterations"_a = 20, "pq_training_points"_a = 65536, "seed"_a = 2024, "threads"_a = 0, "progress"_a = nb::none(),
           keep_doc(std::string("Trains on the rows of `data` ((n, d) float32, n >= nlist) and adds them (ids 0..n-1, or `ids`).\n\n") +
                    kMetricDoc +
                    "\nnlist: coarse clusters. m: PQ sub-quantizers (d % m == 0). nbits: 4 (fast-scan) or 8 (float-LUT ADC).\n"
                    "by_residual: encode x - centroid. keep_vectors: keep vectors (refine_encoding 'f32', 'f16', 'bf16', 'int8') for "
                    "exact re-ranking.\ncoarse_iterations, coarse_points_per_centroid, pq_iterations, pq_training_points: training.\n"
                    "threads: 0 = every core. progress: None, True (tqdm) or a callable(stage, done, total)."))
        .def(
            "add",
            [](PyIvfPq& i, nb::handle data, nb::handle ids) {
                const DenseInput in = dense_input(data, true, "vectors");
                if (ids.is_none()) {
                    nb::gil_scoped_release release;
                    i.add(in.view());
                    return;
                }
                const std::vector<std::uint32_t> idv = ids_u32(ids, in.rows, "IvfPqIndex.add");
                nb::gil_scoped_release release;
                i.add(in.view(), idv);
            },
            "data"_a, "ids"_a = nb::none(), "Adds vectors (automatic ids continue the count; an index built with ids needs ids).")
        .def(
            "remove",
            [](PyIvfPq& i, nb::handle ids) {
                const std::vector<std::uint32_t> idv = ids_u32(ids, static_cast<std::size_t>(-1), "IvfPqIndex.remove");
                return i.remove(idv);
            },
            "ids"_a, "Removes these ids (unknown ids are ignored); returns how many were removed.")
        .def_prop_ro("metric", [](const PyIvfPq& i) { return metric_string(i.metric()); })
        .def_prop_ro("nlist", &PyIvfPq::nlist)
        .def(
            "search",
            [](const PyIvfPq& i, nb::handle q, long long k, long long nprobe, long long refine_factor, double esf, nb::handle filter) {
                return search_one<DenseSide>(i, q, k, ivfpq_params(nprobe, refine_factor, esf), filter);
            },
            "query"_a, "k"_a = 10, nb::kw_only(), "nprobe"_a = 16, "refine_factor"_a = 4, "exact_scan_fraction"_a = 0.01, "filter"_a = nb::none(),
            keep_doc(std::string(kSearchDoc) +
                     "\n\nnprobe: lists scanned. refine_factor: re-rank the best k x refine_factor PQ candidates exactly (0 = none).\n"
                     "exact_scan_fraction: a filter accepting at most this fraction is answered by an exact scan of the accepted ids."))
        .def(
            "search_batch",
            [](const PyIvfPq& i, nb::handle q, long long k, long long nprobe, long long refine_factor, double esf, long long threads,
               nb::handle filter) { return search_many<DenseSide>(i, q, k, ivfpq_params(nprobe, refine_factor, esf), threads, filter); },
            "queries"_a, "k"_a = 10, nb::kw_only(), "nprobe"_a = 16, "refine_factor"_a = 4, "exact_scan_fraction"_a = 0.01, "threads"_a = 0,
            "filter"_a = nb::none(), kBatchDoc);
    bind_common<DenseSide, PyIvfPq>(ivf, "IvfPqIndex");

    using HI = sd::HnswIndex;
    nb::class_<HI> hi(m, "HnswIndex", "HNSW graph index (Malkov & Yashunin) with f32 / f16 / bf16 / int8 / int4 payloads, filters, remove and slot reuse.");
    hi.def_static(
          "build",
          [](nb::handle data, const std::string& metric, long long M, long long ef_construction, const std::string& storage, bool keep_f32,
             const std::string& rerank_storage, long long threads, std::uint64_t seed, nb::handle progress) {
              const DenseInput in = dense_input(data, true, "vectors");
              sd::HnswIndexBuildParams p;
              p.M = to_size(M, "M");
              p.ef_construction = to_size(ef_construction, "ef_construction");
              p.storage = parse_encoding(storage);
              p.keep_f32 = keep_f32;
              p.rerank_storage = parse_encoding(rerank_storage);
              p.threads = to_size(threads, "threads");
              p.seed = seed;
              p.progress = progress_callback(progress);
              const sd::Metric mt = parse_metric(metric);
              nb::gil_scoped_release release;
              return HI::build(in.view(), mt, p);
          },
          "data"_a, "metric"_a = "ip", nb::kw_only(), "M"_a = 16, "ef_construction"_a = 200, "storage"_a = "f32", "keep_f32"_a = true, "rerank_storage"_a = "f32", "threads"_a = 0,
          "seed"_a = 42, "progress"_a = nb::none(),
          keep_doc(std::string("A graph over the rows of `data` ((n, d) float32; ids 0..n-1).\n\n") + kMetricDoc +
                   "\nM: links per node on the upper layers (2M on layer 0). ef_construction: candidates kept while inserting.\n"
                   "storage: payload the walk scores ('f32', 'f16', 'bf16', 'int8', 'int8-dim', 'int4': search with rerank=64); keep_f32: also keep a copy for exact "
                   "re-ranking, in rerank_storage ('f32', or 'f16' / 'bf16': int8 + f16 uses less memory than f32 at nearly the same recall).\nthreads: insertion threads (0 = every core; 1 = deterministic). seed: node levels.\n"
                   "progress: None, True (tqdm) or a callable(stage, done, total)."))
        .def(
            "add",
            [](HI& i, nb::handle data) {
                const DenseInput in = dense_input(data, true, "vectors");
                std::vector<std::uint32_t> ids;
                {
                    nb::gil_scoped_release release;
                    ids = i.add(in.view());
                }
                return ids;
            },
            "data"_a, "Adds vectors; returns their ids (deleted slots are reused first).")
        .def("remove", [](HI& i, long long id) { return i.remove(static_cast<std::uint32_t>(to_size(id, "id"))); }, "id"_a,
             "Marks `id` deleted (never returned again); returns False when it already was.")
        .def_prop_ro("metric", [](const HI& i) { return metric_string(i.metric()); })
        .def(
            "search",
            [](const HI& i, nb::handle q, long long k, long long ef, double esf, std::optional<long long> rerank, nb::handle filter) {
                return search_one<DenseSide>(i, q, k, hnsw_params(ef, esf, rerank), filter);
            },
            "query"_a, "k"_a = 10, nb::kw_only(), "ef"_a = 64, "exact_scan_fraction"_a = 0.02, "rerank"_a = 32, "filter"_a = nb::none(),
            keep_doc(std::string(kSearchDoc) +
                     "\n\nef: closest nodes kept by the layer-0 search (at least k).\nexact_scan_fraction: a filter accepting at most "
                     "this fraction is answered by an exact scan.\nrerank: with a reduced payload, candidates re-scored exactly (None = all ef)."))
        .def(
            "search_batch",
            [](const HI& i, nb::handle q, long long k, long long ef, double esf, std::optional<long long> rerank, long long threads, nb::handle filter) {
                return search_many<DenseSide>(i, q, k, hnsw_params(ef, esf, rerank), threads, filter);
            },
            "queries"_a, "k"_a = 10, nb::kw_only(), "ef"_a = 64, "exact_scan_fraction"_a = 0.02, "rerank"_a = 32, "threads"_a = 0,
            "filter"_a = nb::none(), kBatchDoc);
    bind_common<DenseSide, HI>(hi, "HnswIndex");
}

}  // namespace sdpy
