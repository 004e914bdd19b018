// python/src/common.hpp -- what every binding translation unit shares: numpy / scipy.sparse inputs viewed without
// copying when their dtype and layout already fit (converted once otherwise), results as numpy arrays padded with
// -1 / -inf, filters, the progress callback bridge and the string forms of the library's enums.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/core/id_filter.hpp"
#include "sparsedense/core/progress.hpp"
#include "sparsedense/core/search_result.hpp"
#include "sparsedense/core/sparse_vector.hpp"
#include "sparsedense/core/value_types.hpp"
#include "sparsedense/dense/metric.hpp"
#include "sparsedense/dense/vector_store.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace sdpy {

namespace sd = sparsedense;

/// Raises ValueError (through the library's Error, so it carries a kind) with the given message.
[[noreturn]] inline void bad_argument(const std::string& msg) { throw sd::Error(sd::ErrorKind::invalid_argument, msg); }

/// str(h) as a std::string.
inline std::string py_str(nb::handle h) {
    nb::str s(h);
    return std::string(s.c_str());
}

/// numpy, imported once.
nb::module_& numpy();

/// A C-contiguous float32 matrix (or one row) viewed in place; `keep` owns a converted copy when one was needed.
struct DenseInput {
    nb::object keep;
    const float* data = nullptr;
    std::size_t rows = 0, cols = 0;
    [[nodiscard]] sd::DenseMatrixView<const float> view() const { return {data, rows, cols}; }
    [[nodiscard]] std::span<const float> row() const { return {data, cols}; }
};

/// batch: a 2-D (n, d) array; otherwise one vector: 1-D (d,) or 2-D (1, d). `what` names it in errors.
DenseInput dense_input(nb::handle obj, bool batch, const char* what);

/// A CSR matrix viewed in place: scipy.sparse (any format; csr used as is) with int32 indices and float32 data is
/// not copied (the row offsets are, as u64: rows + 1 values).
struct CsrInput {
    nb::object keep_indptr, keep_indices, keep_data;
    std::vector<std::uint64_t> indptr_u64;  // int32 row offsets widened (the fast path)
    sd::CsrMatrixView<float> view;
};
CsrInput csr_input(nb::handle obj, const char* what);

/// One sparse query: a (indices, values) pair of arrays, or a scipy.sparse matrix / array with one row.
struct SparseQueryInput {
    CsrInput csr;  // when given as a scipy matrix
    nb::object keep_ids, keep_values;
    sd::SparseVectorView<float> view;
};
SparseQueryInput sparse_query_input(nb::handle obj);

/// Ids allowed by a search: None (all), a numpy bool mask (mask[i] = id i allowed), an array of allowed ids, or an
/// IdSet (reused without rebuilding).
struct IdSet {
    sd::IdBitset bits;
    static IdSet from_object(nb::handle obj);
};
struct FilterInput {
    IdSet owned;
    const IdSet* set = nullptr;
    [[nodiscard]] sd::IdFilter filter() const { return set ? sd::IdFilter(set->bits) : sd::IdFilter(); }
};
FilterInput filter_input(nb::handle obj);

/// Results as numpy arrays: ids int64 and scores float32, padded with -1 / -inf to k.
template <class Id>
void copy_results(const sd::SearchResults<Id>& r, std::size_t k, std::int64_t* ids, float* scores) {
    const std::size_t n = std::min(k, r.size());
    for (std::size_t i = 0; i < n; ++i) {
        ids[i] = static_cast<std::int64_t>(r[i].id);
        scores[i] = r[i].score;
    }
    for (std::size_t i = n; i < k; ++i) {
        ids[i] = -1;
        scores[i] = -std::numeric_limits<float>::infinity();
    }
}

/// The two result arrays, created as numpy arrays up front (with the GIL held) and filled afterwards (filling may
/// run without the GIL).
struct ResultArrays {
    nb::object ids_array, scores_array;
    std::int64_t* ids = nullptr;
    float* scores = nullptr;
    ResultArrays(std::size_t rows, std::size_t k, bool batch);
    nb::tuple to_python() { return nb::make_tuple(ids_array, scores_array); }
};

template <class Id>
nb::tuple results_to_python(const sd::SearchResults<Id>& r, std::size_t k) {
    ResultArrays out(1, k, false);
    copy_results(r, k, out.ids, out.scores);
    return out.to_python();
}

template <class Id>
nb::tuple batch_to_python(const std::vector<sd::SearchResults<Id>>& all, std::size_t k) {
    ResultArrays out(all.size(), k, true);
    {
        nb::gil_scoped_release release;
        for (std::size_t q = 0; q < all.size(); ++q) copy_results(all[q], k, out.ids + q * k, out.scores + q * k);
    }
    return out.to_python();
}

/// k as given by Python (a negative k is an error, not a huge size_t).
std::size_t check_k(long long k, const char* where);

/// The build progress bridge: None / False = silent, True = tqdm bars (when tqdm is installed), or a callable
/// progress(stage: str, done: int, total: int). The callable runs with the GIL held; an exception it raises
/// cancels the build and propagates.
sd::ProgressCallback progress_callback(nb::handle progress);

// string forms of the library's enums (errors name the accepted values)
sd::WeightPrecision parse_precision(const std::string& s);
sd::VectorEncoding parse_encoding(const std::string& s);
sd::Metric parse_metric(const std::string& s);
std::string metric_string(sd::Metric m);

/// Reads a dict of keyword parameters: get(d, "name", field) sets field when the key is present, and
/// check_keys() rejects unknown names.
template <class T>
void get(const nb::dict& d, const char* key, T& field) {
    if (d.contains(key)) field = nb::cast<T>(d[key]);
}
void check_keys(const nb::dict& d, std::initializer_list<const char*> known, const char* what);

/// A docstring built at registration, kept for the process lifetime.
const char* keep_doc(std::string doc);

void register_sparse(nb::module_& m);
void register_dense(nb::module_& m);
void register_hybrid(nb::module_& m);
void register_text_eval(nb::module_& m);

}  // namespace sdpy
