// python/src/index_common.hpp -- the retriever shape (core/retriever.hpp) bound once for every index: search /
// search_batch with the GIL released, save / load, size, prepare/score, and the C++ timing entry points the
// benchmark script compares against (no conversion, no Python in the timed loop).
#pragma once

#include <nanobind/stl/tuple.h>

#include <chrono>
#include <string>

#include "common.hpp"

namespace sdpy {

struct SparseSide {
    using Query = SparseQueryInput;
    using Batch = CsrInput;
    static Query query(nb::handle h) { return sparse_query_input(h); }
    static sd::SparseVectorView<float> view(const Query& q) { return q.view; }
    static Batch batch(nb::handle h) { return csr_input(h, "queries"); }
    static sd::CsrMatrixView<float> view(const Batch& b) { return b.view; }
};

struct DenseSide {
    using Query = DenseInput;
    using Batch = DenseInput;
    static Query query(nb::handle h) { return dense_input(h, false, "query"); }
    static std::span<const float> view(const Query& q) { return q.row(); }
    static Batch batch(nb::handle h) { return dense_input(h, true, "queries"); }
    static sd::DenseMatrixView<const float> batch_view(const Batch& b) { return b.view(); }
};

template <class Side, class Q>
auto batch_view_of(const Q& b) {
    if constexpr (std::is_same_v<Side, DenseSide>) return DenseSide::batch_view(b);
    else return SparseSide::view(b);
}

/// One query: search_into a per-thread buffer with the GIL released, then the two result arrays.
template <class Side, class Index>
nb::tuple search_one(const Index& index, nb::handle query, long long k, const typename Index::search_params_type& p, nb::handle filter) {
    const std::size_t kk = check_k(k, "search");
    const typename Side::Query q = Side::query(query);
    const FilterInput f = filter_input(filter);
    thread_local sd::SearchResults<typename Index::id_type> buf;
    {
        nb::gil_scoped_release release;
        index.search_into(Side::view(q), kk, buf, p, f.filter());
    }
    return results_to_python(buf, kk);
}

template <class Side, class Index>
nb::tuple search_many(const Index& index, nb::handle queries, long long k, const typename Index::search_params_type& p, long long threads,
                      nb::handle filter) {
    const std::size_t kk = check_k(k, "search_batch");
    if (threads < 0) bad_argument("search_batch: threads must be >= 0 (0 = all cores), got " + std::to_string(threads));
    const typename Side::Batch b = Side::batch(queries);
    const FilterInput f = filter_input(filter);
    std::vector<sd::SearchResults<typename Index::id_type>> all;
    {
        nb::gil_scoped_release release;
        all = index.search_batch(batch_view_of<Side>(b), kk, p, static_cast<std::size_t>(threads), f.filter());
    }
    return batch_to_python(all, kk);
}

/// Parameters from a dict of keyword arguments (hybrid per-side parameters, timing entry points); one
/// specialization per index in params.hpp.
template <class Params>
Params params_from_dict(const nb::dict& d);

/// The verbs every index shares. `Cls` is the nanobind class_.
template <class Side, class Index, class Cls>
void bind_common(Cls& cls, const char* name) {
    using Params = typename Index::search_params_type;
    cls.def("__len__", [](const Index& i) { return i.size(); }, "Number of documents.")
        .def_prop_ro("size", [](const Index& i) { return i.size(); }, "Number of documents.")
        .def_prop_ro("dimension", [](const Index& i) { return i.dimension(); }, "Vector dimension (sparse: vocabulary size).")
        .def_prop_ro("memory_bytes", [](const Index& i) { return i.memory_bytes(); }, "Bytes held by the index.")
        .def(
            "save",
            [](const Index& i, const std::string& path) {
                nb::gil_scoped_release release;
                i.save(path);
            },
            "path"_a, "Writes the index to `path` atomically (temporary file, fsync, rename).")
        .def_static(
            "load",
            [](const std::string& path) {
                nb::gil_scoped_release release;
                return Index::load(path);
            },
            "path"_a,
            "Maps a file written by save(): validated (checksums, bounds), memory-mapped without copying. A corrupt, "
            "truncated or foreign file raises sparsedense.CorruptFileError (an OSError).")
        .def(
            "score",
            [](const Index& i, nb::handle query, nb::handle ids) {
                const typename Side::Query q = Side::query(query);
                nb::object a = numpy().attr("ascontiguousarray")(ids, "dtype"_a = numpy().attr("int64"));
                nb::ndarray<const std::int64_t, nb::ndim<1>, nb::c_contig, nb::device::cpu> arr;
                if (!nb::try_cast(a, arr, false)) bad_argument("score: ids must be a 1-D integer array");
                float* out = new float[arr.shape(0)];
                nb::capsule own(out, [](void* p) noexcept { delete[] static_cast<float*>(p); });
                {
                    nb::gil_scoped_release release;
                    const auto scorer = i.prepare(Side::view(q));
                    for (std::size_t j = 0; j < arr.shape(0); ++j) {
                        const std::int64_t id = arr.data()[j];
                        if (id < 0 || static_cast<std::uint64_t>(id) > std::numeric_limits<typename Index::id_type>::max())
                            throw sd::Error(sd::ErrorKind::out_of_range, "score: id " + std::to_string(id) + " is out of range");
                        out[j] = scorer(static_cast<typename Index::id_type>(id));
                    }
                }
                return nb::ndarray<nb::numpy, float, nb::ndim<1>>(out, {arr.shape(0)}, own);
            },
            "query"_a, "ids"_a,
            "Exact scores of the given document ids for one query (the query is prepared once: the C++ prepare()).")
        .def(
            "_cpp_search_seconds",
            [](const Index& i, nb::handle query, long long k, long long repeats, nb::dict params) {
                const std::size_t kk = check_k(k, "search");
                const Params p = params_from_dict<Params>(params);
                const typename Side::Query q = Side::query(query);
                sd::SearchResults<typename Index::id_type> buf;
                nb::gil_scoped_release release;
                const auto t0 = std::chrono::steady_clock::now();
                for (long long r = 0; r < repeats; ++r) i.search_into(Side::view(q), kk, buf, p);
                return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            },
            "query"_a, "k"_a, "repeats"_a, "params"_a = nb::dict(),
            "Benchmark entry point: seconds taken by `repeats` C++ search_into calls on one query (no Python in the loop).")
        .def(
            "_cpp_search_batch_seconds",
            [](const Index& i, nb::handle queries, long long k, long long threads, nb::dict params) {
                const std::size_t kk = check_k(k, "search_batch");
                const Params p = params_from_dict<Params>(params);
                const typename Side::Batch b = Side::batch(queries);
                nb::gil_scoped_release release;
                const auto t0 = std::chrono::steady_clock::now();
                auto all = i.search_batch(batch_view_of<Side>(b), kk, p, static_cast<std::size_t>(threads));
                const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                return s + 0.0 * static_cast<double>(all.size());
            },
            "queries"_a, "k"_a, "threads"_a = 0, "params"_a = nb::dict(),
            "Benchmark entry point: seconds taken by one C++ search_batch call (no conversion of its results).")
        .def("__repr__", [name](const Index& i) {
            return std::string("<sparsedense.") + name + " size=" + std::to_string(i.size()) + " dimension=" + std::to_string(i.dimension()) + ">";
        });
}

}  // namespace sdpy
