// python/src/module.cpp -- the module sparsedense._core: error translation (sparsedense::Error -> the Python class
// of its ErrorKind, registered by sparsedense/__init__.py), the input / output helpers of common.hpp, IdSet, and
// the registration of the other translation units' bindings.
#include <nanobind/stl/function.h>

#include <array>
#include <cmath>
#include <cstring>
#include <deque>

#include "common.hpp"

// numpy's C API, in this translation unit only: array creation and the zero-copy check of float32 inputs are its
// few hot calls (nanobind's generic ndarray path costs about a microsecond more per call)
#define PY_ARRAY_UNIQUE_SYMBOL sparsedense_numpy_api
#define NPY_NO_DEPRECATED_API NPY_1_22_API_VERSION
#include <numpy/arrayobject.h>
#include "sparsedense/simd/dispatch.hpp"
#include "sparsedense/version.hpp"

namespace sdpy {

namespace {

// one Python exception class per ErrorKind, set by sparsedense/__init__.py through _set_error_classes()
std::array<PyObject*, 8> error_classes{};

const char* kind_key(sd::ErrorKind k) {
    switch (k) {
        case sd::ErrorKind::invalid_argument: return "invalid_argument";
        case sd::ErrorKind::invalid_data: return "invalid_data";
        case sd::ErrorKind::dimension_mismatch: return "dimension_mismatch";
        case sd::ErrorKind::out_of_range: return "out_of_range";
        case sd::ErrorKind::io: return "io";
        case sd::ErrorKind::corrupt_file: return "corrupt_file";
        case sd::ErrorKind::version_mismatch: return "version_mismatch";
        case sd::ErrorKind::unsupported: return "unsupported";
    }
    return "invalid_argument";
}

void translate_error(const std::exception_ptr& p, void*) {
    try {
        std::rethrow_exception(p);
    } catch (const sd::Error& e) {
        PyObject* cls = error_classes[static_cast<std::size_t>(e.kind())];
        if (!cls) cls = PyExc_RuntimeError;
        PyObject* exc = PyObject_CallOneArg(cls, nb::str(e.what()).ptr());
        if (!exc) return;  // the constructor raised: that error stands
        PyObject_SetAttrString(exc, "kind", nb::str(kind_key(e.kind())).ptr());
        PyErr_SetObject(cls, exc);
        Py_DECREF(exc);
    }
}

nb::object as_array(nb::handle obj) { return numpy().attr("asarray")(obj); }

}  // namespace

nb::module_& numpy() {
    // leaked on purpose: a static nb::object would be released after the interpreter is finalized
    static nb::module_* np = new nb::module_(nb::module_::import_("numpy"));
    return *np;
}

DenseInput dense_input(nb::handle obj, bool batch, const char* what) {
    using Arr = nb::ndarray<const float, nb::c_contig, nb::device::cpu>;
    DenseInput in;
    if (PyArray_Check(obj.ptr())) {  // the fast path: a float32, C-contiguous, aligned numpy array is used in place
        auto* a = reinterpret_cast<PyArrayObject*>(obj.ptr());
        const int nd = PyArray_NDIM(a);
        if (PyArray_TYPE(a) == NPY_FLOAT32 && PyArray_ISCARRAY_RO(a) && PyArray_ISNOTSWAPPED(a) &&
            ((batch && nd == 2) || (!batch && (nd == 1 || (nd == 2 && PyArray_DIM(a, 0) == 1))))) {
            in.data = static_cast<const float*>(PyArray_DATA(a));
            in.rows = batch ? static_cast<std::size_t>(PyArray_DIM(a, 0)) : 1;
            in.cols = static_cast<std::size_t>(PyArray_DIM(a, nd - 1));
            return in;  // the caller's reference keeps the array alive for the call
        }
    }
    Arr arr;
    if (!nb::try_cast(obj, arr, false)) {
        nb::object a = as_array(obj);
        const std::string kind = py_str(a.attr("dtype").attr("kind"));
        if (kind != "f" && kind != "i" && kind != "u" && kind != "b")
            bad_argument(std::string(what) + ": expected a numeric array (float32 preferred), got dtype " +
                         py_str(a.attr("dtype")));
        in.keep = numpy().attr("ascontiguousarray")(a, "dtype"_a = numpy().attr("float32"));
        if (!nb::try_cast(in.keep, arr, false)) bad_argument(std::string(what) + ": could not be converted to a float32 array");
    } else {
        in.keep = nb::borrow(obj);
    }
    const std::size_t nd = arr.ndim();
    if (batch) {
        if (nd != 2)
            throw sd::Error(sd::ErrorKind::dimension_mismatch,
                            std::string(what) + ": expected a 2-D array (n, dimension), got " + std::to_string(nd) + " dimensions");
        in.rows = arr.shape(0);
        in.cols = arr.shape(1);
    } else {
        if (nd == 1) {
            in.rows = 1;
            in.cols = arr.shape(0);
        } else if (nd == 2 && arr.shape(0) == 1) {
            in.rows = 1;
            in.cols = arr.shape(1);
        } else {
            throw sd::Error(sd::ErrorKind::dimension_mismatch,
                            std::string(what) + ": expected one vector (a 1-D array or shape (1, dimension)), got " + std::to_string(nd) +
                                " dimensions" + (nd == 2 ? " with " + std::to_string(arr.shape(0)) + " rows (use search_batch)" : ""));
        }
    }
    in.data = arr.data();
    return in;
}

namespace {

/// `a` as a contiguous array of dtype `dtype`, without copying when it already is one.
nb::object as_dtype(nb::handle a, const char* dtype) {
    return numpy().attr("ascontiguousarray")(a, "dtype"_a = numpy().attr(dtype));
}

template <class T>
std::span<const T> span_of(nb::handle a) {
    nb::ndarray<const T, nb::ndim<1>, nb::c_contig, nb::device::cpu> arr;
    if (!nb::try_cast(a, arr, false)) bad_argument("internal: array of the wrong dtype");
    return {arr.data(), arr.shape(0)};
}

/// int32 / int64 / uint32 term ids as u32 (int32 viewed in place; negative or too large ids are refused).
nb::object term_ids(nb::handle idx, const char* what) {
    nb::object a = as_array(idx);
    const std::string kind = py_str(a.attr("dtype").attr("kind"));
    const std::size_t size = nb::cast<std::size_t>(a.attr("itemsize"));
    if (kind != "i" && kind != "u") bad_argument(std::string(what) + ": term ids must be integers, got dtype " + py_str(a.attr("dtype")));
    if (size == 4) return as_dtype(a, kind == "i" ? "int32" : "uint32").attr("view")(numpy().attr("uint32"));
    if (nb::cast<std::size_t>(a.attr("size")) > 0) {
        const long long lo = nb::cast<long long>(a.attr("min")()), hi = nb::cast<long long>(a.attr("max")());
        if (lo < 0 || hi > 0xFFFFFFFFLL)
            throw sd::Error(sd::ErrorKind::out_of_range, std::string(what) + ": term ids must be in [0, 2^32), got values in [" +
                                                             std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    return as_dtype(a, "uint32");
}

}  // namespace

CsrInput csr_input(nb::handle obj, const char* what) {
    if (!nb::hasattr(obj, "indptr") && !nb::hasattr(obj, "tocsr"))
        bad_argument(std::string(what) + ": expected a scipy.sparse matrix (CSR, int32 indices, float32 data)");
    nb::object m = nb::borrow(obj);
    if (!nb::hasattr(m, "format") || py_str(m.attr("format")) != "csr") m = m.attr("tocsr")();
    nb::tuple shape = nb::cast<nb::tuple>(m.attr("shape"));
    if (shape.size() != 2) bad_argument(std::string(what) + ": expected a 2-D sparse matrix");
    CsrInput in;
    bool viewed = false;
    {  // fast path: numpy int32 / int64 offsets, int32 indices, float32 data, all C-contiguous (scipy's usual CSR)
        nb::object ip = m.attr("indptr"), ix = m.attr("indices"), dt = m.attr("data");
        auto plain = [](PyObject* o, std::initializer_list<int> types) {
            if (!PyArray_Check(o)) return false;
            auto* a = reinterpret_cast<PyArrayObject*>(o);
            if (PyArray_NDIM(a) != 1 || !PyArray_ISCARRAY_RO(a) || !PyArray_ISNOTSWAPPED(a)) return false;
            for (int t : types)
                if (PyArray_TYPE(a) == t) return true;
            return false;
        };
        if (plain(ip.ptr(), {NPY_INT32, NPY_INT64}) && plain(ix.ptr(), {NPY_INT32}) && plain(dt.ptr(), {NPY_FLOAT32})) {
            auto* ipa = reinterpret_cast<PyArrayObject*>(ip.ptr());
            const std::size_t n = static_cast<std::size_t>(PyArray_DIM(ipa, 0));
            if (PyArray_TYPE(ipa) == NPY_INT64) {
                in.view.indptr = {static_cast<const std::uint64_t*>(PyArray_DATA(ipa)), n};  // a negative offset fails validation
            } else {
                const auto* p = static_cast<const std::int32_t*>(PyArray_DATA(ipa));
                in.indptr_u64.resize(n);
                for (std::size_t i = 0; i < n; ++i) in.indptr_u64[i] = static_cast<std::uint64_t>(static_cast<std::int64_t>(p[i]));
                in.view.indptr = in.indptr_u64;
            }
            auto* ixa = reinterpret_cast<PyArrayObject*>(ix.ptr());
            auto* dta = reinterpret_cast<PyArrayObject*>(dt.ptr());
            in.view.indices = {static_cast<const std::uint32_t*>(PyArray_DATA(ixa)), static_cast<std::size_t>(PyArray_DIM(ixa, 0))};
            in.view.values = {static_cast<const float*>(PyArray_DATA(dta)), static_cast<std::size_t>(PyArray_DIM(dta, 0))};
            in.keep_indptr = std::move(ip);
            in.keep_indices = std::move(ix);
            in.keep_data = std::move(dt);
            viewed = true;
        }
    }
    if (!viewed) {  // anything else: converted once through numpy
    nb::object indptr = as_array(m.attr("indptr"));
    const std::string pkind = py_str(indptr.attr("dtype").attr("kind"));
    if (pkind != "i" && pkind != "u") bad_argument(std::string(what) + ": indptr must be integers");
    // int64 offsets are viewed as u64 (a negative one then fails the library's monotonicity check)
    if (nb::cast<std::size_t>(indptr.attr("itemsize")) == 8) in.keep_indptr = as_dtype(indptr, pkind == "i" ? "int64" : "uint64").attr("view")(numpy().attr("uint64"));
    else in.keep_indptr = as_dtype(indptr.attr("astype")(numpy().attr("int64")), "int64").attr("view")(numpy().attr("uint64"));
    in.keep_indices = term_ids(m.attr("indices"), what);
    nb::object data = as_array(m.attr("data"));
    const std::string dkind = py_str(data.attr("dtype").attr("kind"));
    if (dkind != "f" && dkind != "i" && dkind != "u" && dkind != "b") bad_argument(std::string(what) + ": data must be numeric");
    in.keep_data = as_dtype(data, "float32");
    in.view.indptr = span_of<std::uint64_t>(in.keep_indptr);
    in.view.indices = span_of<std::uint32_t>(in.keep_indices);
    in.view.values = span_of<float>(in.keep_data);
    }
    in.view.cols = nb::cast<std::size_t>(shape[1]);
    const std::size_t rows = nb::cast<std::size_t>(shape[0]);
    if (in.view.indptr.size() != rows + 1)
        throw sd::Error(sd::ErrorKind::invalid_data, std::string(what) + ": indptr has " + std::to_string(in.view.indptr.size()) +
                                                         " entries for " + std::to_string(rows) + " rows");
    in.view.validate();
    return in;
}

SparseQueryInput sparse_query_input(nb::handle obj) {
    SparseQueryInput in;
    if (PyTuple_Check(obj.ptr()) && PyTuple_GET_SIZE(obj.ptr()) == 2) {  // fast path: int32 / uint32 ids, float32 values
        PyObject* ids = PyTuple_GET_ITEM(obj.ptr(), 0);
        PyObject* vals = PyTuple_GET_ITEM(obj.ptr(), 1);
        if (PyArray_Check(ids) && PyArray_Check(vals)) {
            auto* ia = reinterpret_cast<PyArrayObject*>(ids);
            auto* va = reinterpret_cast<PyArrayObject*>(vals);
            if (PyArray_NDIM(ia) == 1 && PyArray_NDIM(va) == 1 && (PyArray_TYPE(ia) == NPY_INT32 || PyArray_TYPE(ia) == NPY_UINT32) &&
                PyArray_TYPE(va) == NPY_FLOAT32 && PyArray_ISCARRAY_RO(ia) && PyArray_ISCARRAY_RO(va) && PyArray_ISNOTSWAPPED(ia) &&
                PyArray_ISNOTSWAPPED(va)) {
                // int32 ids are viewed as u32: a negative one becomes >= 2^31 and fails the dimension check
                in.view = {std::span<const std::uint32_t>(static_cast<const std::uint32_t*>(PyArray_DATA(ia)), static_cast<std::size_t>(PyArray_DIM(ia, 0))),
                           std::span<const float>(static_cast<const float*>(PyArray_DATA(va)), static_cast<std::size_t>(PyArray_DIM(va, 0)))};
                return in;
            }
        }
    }
    if (nb::isinstance<nb::tuple>(obj) || nb::isinstance<nb::list>(obj)) {
        nb::sequence seq = nb::borrow<nb::sequence>(obj);
        if (nb::len(seq) != 2) bad_argument("sparse query: expected (indices, values), got a sequence of " + std::to_string(nb::len(seq)));
        in.keep_ids = term_ids(seq[0], "sparse query");
        nb::object v = as_array(seq[1]);
        const std::string kind = py_str(v.attr("dtype").attr("kind"));
        if (kind != "f" && kind != "i" && kind != "u" && kind != "b") bad_argument("sparse query: values must be numeric");
        in.keep_values = as_dtype(v, "float32");
        if (nb::cast<std::size_t>(in.keep_ids.attr("ndim")) != 1 || nb::cast<std::size_t>(in.keep_values.attr("ndim")) != 1)
            throw sd::Error(sd::ErrorKind::dimension_mismatch, "sparse query: indices and values must be 1-D arrays");
        in.view = {span_of<std::uint32_t>(in.keep_ids), span_of<float>(in.keep_values)};
        return in;
    }
    if (nb::hasattr(obj, "tocsr") || nb::hasattr(obj, "indptr")) {
        in.csr = csr_input(obj, "sparse query");
        if (in.csr.view.rows() != 1)
            throw sd::Error(sd::ErrorKind::dimension_mismatch,
                            "sparse query: expected one row, got " + std::to_string(in.csr.view.rows()) + " (use search_batch)");
        in.view = in.csr.view.row(0);
        return in;
    }
    bad_argument("sparse query: expected (indices, values) arrays or a one-row scipy.sparse matrix");
}

IdSet IdSet::from_object(nb::handle obj) {
    IdSet s;
    nb::object a = as_array(obj);
    const std::string kind = py_str(a.attr("dtype").attr("kind"));
    if (nb::cast<std::size_t>(a.attr("ndim")) != 1) throw sd::Error(sd::ErrorKind::dimension_mismatch, "filter: expected a 1-D array");
    if (kind == "b") {
        nb::object b = as_dtype(a, "bool_");
        nb::ndarray<const bool, nb::ndim<1>, nb::c_contig, nb::device::cpu> arr;
        if (!nb::try_cast(b, arr, false)) bad_argument("filter: could not read the boolean mask");
        s.bits = sd::IdBitset(arr.shape(0));
        const bool* p = arr.data();
        for (std::size_t i = 0; i < arr.shape(0); ++i)
            if (p[i]) s.bits.set(i);
        return s;
    }
    if (kind != "i" && kind != "u") bad_argument("filter: expected a boolean mask or an array of allowed ids, got dtype " + py_str(a.attr("dtype")));
    nb::object ids = as_dtype(a, "int64");
    nb::ndarray<const std::int64_t, nb::ndim<1>, nb::c_contig, nb::device::cpu> arr;
    if (!nb::try_cast(ids, arr, false)) bad_argument("filter: could not read the ids");
    const std::int64_t* p = arr.data();
    std::int64_t hi = -1;
    for (std::size_t i = 0; i < arr.shape(0); ++i) {
        if (p[i] < 0) throw sd::Error(sd::ErrorKind::out_of_range, "filter: id " + std::to_string(p[i]) + " at position " + std::to_string(i) + " is negative");
        if (p[i] >= (std::int64_t{1} << 40)) throw sd::Error(sd::ErrorKind::out_of_range, "filter: id " + std::to_string(p[i]) + " is too large");
        hi = std::max(hi, p[i]);
    }
    s.bits = sd::IdBitset(static_cast<std::size_t>(hi + 1));
    for (std::size_t i = 0; i < arr.shape(0); ++i) s.bits.set(static_cast<std::uint64_t>(p[i]));
    return s;
}

FilterInput filter_input(nb::handle obj) {
    FilterInput f;
    if (obj.is_none()) return f;
    if (nb::isinstance<IdSet>(obj)) {
        f.set = nb::inst_ptr<IdSet>(obj);
        return f;
    }
    f.owned = IdSet::from_object(obj);
    f.set = &f.owned;
    return f;
}

ResultArrays::ResultArrays(std::size_t rows, std::size_t k, bool batch) {
    npy_intp dims[2] = {static_cast<npy_intp>(batch ? rows : k), static_cast<npy_intp>(k)};
    const int nd = batch ? 2 : 1;
    ids_array = nb::steal(PyArray_SimpleNew(nd, dims, NPY_INT64));
    if (!ids_array.is_valid()) throw nb::python_error();
    scores_array = nb::steal(PyArray_SimpleNew(nd, dims, NPY_FLOAT32));
    if (!scores_array.is_valid()) throw nb::python_error();
    ids = static_cast<std::int64_t*>(PyArray_DATA(reinterpret_cast<PyArrayObject*>(ids_array.ptr())));
    scores = static_cast<float*>(PyArray_DATA(reinterpret_cast<PyArrayObject*>(scores_array.ptr())));
}

const char* keep_doc(std::string doc) {
    static std::deque<std::string> docs;
    docs.push_back(std::move(doc));
    return docs.back().c_str();
}

std::size_t check_k(long long k, const char* where) {
    sd::validate_k(k, where);
    return static_cast<std::size_t>(k);
}

namespace {

/// Owns the Python callable; dropped with the GIL held (the library may copy the std::function around freely).
struct PyCallable {
    PyObject* fn;
    explicit PyCallable(nb::handle f) : fn(f.inc_ref().ptr()) {}
    ~PyCallable() {
        if (Py_IsInitialized()) {
            nb::gil_scoped_acquire gil;
            Py_DECREF(fn);
        }
    }
};

}  // namespace

sd::ProgressCallback progress_callback(nb::handle progress) {
    if (progress.is_none()) return {};
    nb::object fn = nb::borrow(progress);
    if (nb::isinstance<nb::bool_>(progress)) {
        if (!nb::cast<bool>(progress)) return {};
        fn = nb::module_::import_("sparsedense._progress").attr("tqdm_progress")();
        if (fn.is_none()) return {};
    }
    if (!PyCallable_Check(fn.ptr())) bad_argument("progress: expected None, a bool or a callable(stage, done, total)");
    auto holder = std::make_shared<PyCallable>(fn);
    return [holder](const sd::BuildProgress& p) {
        nb::gil_scoped_acquire gil;
        if (PyErr_CheckSignals() != 0) throw nb::python_error();  // Ctrl-C cancels the build
        nb::handle(holder->fn)(nb::str(p.stage.data(), p.stage.size()), p.done, p.total);
    };
}

sd::WeightPrecision parse_precision(const std::string& s) {
    if (s == "f32") return sd::WeightPrecision::f32;
    if (s == "f16") return sd::WeightPrecision::f16;
    if (s == "u8") return sd::WeightPrecision::u8;
    bad_argument("precision must be 'f32', 'f16' or 'u8', got '" + s + "'");
}
sd::VectorEncoding parse_encoding(const std::string& s) { return sd::parse_vector_encoding(s); }
sd::Metric parse_metric(const std::string& s) { return sd::parse_metric(s); }
std::string metric_string(sd::Metric m) { return sd::metric_name(m); }

void check_keys(const nb::dict& d, std::initializer_list<const char*> known, const char* what) {
    for (auto [key, value] : d) {
        const std::string k = py_str(key);
        bool ok = false;
        std::string list;
        for (const char* n : known) {
            ok = ok || k == n;
            list += list.empty() ? n : std::string(", ") + n;
        }
        if (!ok) bad_argument(std::string(what) + ": unknown parameter '" + k + "' (known: " + list + ")");
    }
}

}  // namespace sdpy

NB_MODULE(_core, m) {
    using namespace sdpy;
    m.doc() = "sparsedense's C++ core (nanobind). Use the package `sparsedense`, which re-exports it with docs and stubs.";
    if (_import_array() < 0) throw nb::python_error();
    nb::register_exception_translator(translate_error);
    m.def(
        "_set_error_classes",
        [](nb::dict classes) {
            const char* keys[] = {"invalid_argument", "invalid_data", "dimension_mismatch", "out_of_range",
                                  "io", "corrupt_file", "version_mismatch", "unsupported"};
            for (std::size_t i = 0; i < 8; ++i) {
                nb::object c = classes[keys[i]];
                Py_XDECREF(error_classes[i]);
                error_classes[i] = c.inc_ref().ptr();  // kept for the process lifetime
            }
        },
        "classes"_a);
    m.attr("__version__") = std::to_string(SPARSEDENSE_VERSION_MAJOR) + "." + std::to_string(SPARSEDENSE_VERSION_MINOR) + "." + std::to_string(SPARSEDENSE_VERSION_PATCH);
    m.def("simd_level", []() { return std::string(sd::simd::simd_level_name(sd::simd::active_simd_level())); },
          "The SIMD level the kernels dispatch to on this CPU (chosen at run time).");

    nb::class_<IdSet>(m, "IdSet",
                      "A reusable filter: the set of allowed ids as a bitset. Build it once from a boolean mask or an array of ids "
                      "and pass it as `filter=` to many searches (a mask or id array given directly is converted per call).")
        .def("__init__", [](IdSet* self, nb::handle ids_or_mask) { new (self) IdSet(IdSet::from_object(ids_or_mask)); }, "ids_or_mask"_a,
             "IdSet(ids_or_mask): a numpy bool mask (mask[i] allows id i) or an integer array of allowed ids.")
        .def("__len__", [](const IdSet& s) { return s.bits.count(); }, "Number of allowed ids.")
        .def("__contains__", [](const IdSet& s, long long id) { return id >= 0 && s.bits.test(static_cast<std::uint64_t>(id)); })
        .def_prop_ro("capacity", [](const IdSet& s) { return s.bits.size(); }, "Ids below this are represented (larger ones are rejected).");

    register_sparse(m);
    register_dense(m);
    register_hybrid(m);
    register_text_eval(m);
}
