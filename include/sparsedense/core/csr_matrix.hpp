// sparsedense/core/csr_matrix.hpp
//
// Compressed sparse rows: row i holds term ids indices[indptr[i] .. indptr[i+1]) and their values.
// CsrMatrixView wraps caller memory (for example a memory-mapped BigANN .csr file) without copying;
// CsrMatrix owns its arrays and is what readers and generators return. Offsets are 64-bit (more than 2^32
// non-zeros are fine), term ids 32-bit (no 65,536-term limit), row count up to 2^32.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "sparsedense/core/sparse_vector.hpp"

namespace sparsedense {

template <class Value = float>
struct CsrMatrixView {
    using value_type = Value;
    std::span<const std::uint64_t> indptr;   ///< rows + 1 offsets, indptr[0] == 0, non-decreasing
    std::span<const std::uint32_t> indices;  ///< term ids, strictly increasing within a row
    std::span<const Value> values;           ///< one value per term id
    std::size_t cols = 0;                    ///< dimension (vocabulary size); 0 = unknown

    [[nodiscard]] std::size_t rows() const noexcept { return indptr.empty() ? 0 : indptr.size() - 1; }
    [[nodiscard]] std::size_t nnz() const noexcept { return indices.size(); }
    [[nodiscard]] SparseVectorView<Value> row(std::size_t i) const noexcept {
        const auto b = indptr[i], e = indptr[i + 1];
        return {indices.subspan(b, e - b), values.subspan(b, e - b)};
    }
    [[nodiscard]] SparseVectorView<Value> operator[](std::size_t i) const noexcept { return row(i); }

    /// Checks the structure (offsets consistent with array sizes) and every row's invariants. Throws Error naming the row.
    void validate() const {
        if (indptr.empty()) {
            if (!indices.empty()) raise(ErrorKind::invalid_data, "csr matrix: no row offsets but ", indices.size(), " term ids");
            return;
        }
        if (indices.size() != values.size())
            raise(ErrorKind::dimension_mismatch, "csr matrix: ", indices.size(), " term ids but ", values.size(), " values");
        if (indptr.front() != 0) raise(ErrorKind::invalid_data, "csr matrix: indptr[0] is ", indptr.front(), ", expected 0");
        if (indptr.back() != indices.size())
            raise(ErrorKind::invalid_data, "csr matrix: last offset ", indptr.back(), " != number of non-zeros ", indices.size());
        for (std::size_t i = 0; i + 1 < indptr.size(); ++i) {
            if (indptr[i + 1] < indptr[i])
                raise(ErrorKind::invalid_data, "csr matrix: row offsets decrease at row ", i, " (", indptr[i], " then ", indptr[i + 1], ")");
        }
        for (std::size_t i = 0; i < rows(); ++i) validate_sparse(row(i).ids, row(i).values, cols, static_cast<long long>(i), "csr matrix");
    }
};

/// Owning CSR matrix. Append rows with push_back(); view() gives the non-owning form.
template <class Value = float>
struct CsrMatrix {
    using value_type = Value;
    std::vector<std::uint64_t> indptr{0};
    std::vector<std::uint32_t> indices;
    std::vector<Value> values;
    std::size_t cols = 0;

    CsrMatrix() = default;
    explicit CsrMatrix(std::size_t dimension) : cols(dimension) {}

    [[nodiscard]] std::size_t rows() const noexcept { return indptr.size() - 1; }
    [[nodiscard]] std::size_t nnz() const noexcept { return indices.size(); }
    [[nodiscard]] CsrMatrixView<Value> view() const noexcept { return {indptr, indices, values, cols}; }
    operator CsrMatrixView<Value>() const noexcept { return view(); }  // NOLINT: views are cheap
    [[nodiscard]] SparseVectorView<Value> row(std::size_t i) const noexcept { return view().row(i); }
    [[nodiscard]] SparseVectorView<Value> operator[](std::size_t i) const noexcept { return row(i); }

    /// Appends a row (not validated; call validate() once at the end or validate the row first).
    void push_back(SparseVectorView<Value> row_view) {
        indices.insert(indices.end(), row_view.ids.begin(), row_view.ids.end());
        values.insert(values.end(), row_view.values.begin(), row_view.values.end());
        indptr.push_back(indices.size());
    }
    void reserve(std::size_t rows_hint, std::size_t nnz_hint) {
        indptr.reserve(rows_hint + 1);
        indices.reserve(nnz_hint);
        values.reserve(nnz_hint);
    }
    void validate() const { view().validate(); }
};

}  // namespace sparsedense
