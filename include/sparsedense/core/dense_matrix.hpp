// sparsedense/core/dense_matrix.hpp
//
// Row-major dense matrices. DenseMatrixView<T> is a non-owning view over caller memory (rows x cols, with a row
// stride in elements, so it can view a sub-block or padded storage); DenseMatrix<T> owns 64-byte aligned storage
// for data the library builds (codebooks, centroids, stored vectors). core/eigen_interop.hpp views either as an
// Eigen::Map (kept out of this header: Eigen/Core costs every including translation unit about a second).
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <span>
#include <type_traits>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "sparsedense/core/error.hpp"

namespace sparsedense {

/// Minimal aligned allocator (default 64 bytes: one cache line, one AVX-512 register). Arrays of 4 MiB and more are
/// aligned to 2 MiB and, on Linux, advised as huge-page candidates (MADV_HUGEPAGE) before they are touched: with
/// transparent huge pages in "madvise" mode (the common default) a random access into a large vector store or
/// graph then misses the TLB far less (HnswIndex on glove-100, int8 walk: 8-17% less time per query).
template <class T, std::size_t Alignment = 64>
struct AlignedAllocator {
    static constexpr std::size_t kHugeAlignment = std::size_t{2} << 20, kHugeFrom = std::size_t{4} << 20;
    static constexpr std::size_t alignment_for(std::size_t bytes) noexcept { return bytes >= kHugeFrom && kHugeAlignment > Alignment ? kHugeAlignment : Alignment; }
    using value_type = T;
    template <class U>
    struct rebind { using other = AlignedAllocator<U, Alignment>; };
    AlignedAllocator() noexcept = default;
    template <class U>
    AlignedAllocator(const AlignedAllocator<U, Alignment>&) noexcept {}  // NOLINT
    T* allocate(std::size_t n) {
        if (n == 0) return nullptr;
        const std::size_t bytes = ((n * sizeof(T) + Alignment - 1) / Alignment) * Alignment;
        const std::size_t align = alignment_for(bytes);
        void* p = ::operator new(bytes, std::align_val_t(align));
#if defined(__linux__) && defined(MADV_HUGEPAGE)
        if (align == kHugeAlignment) (void)::madvise(p, bytes & ~(kHugeAlignment - 1), MADV_HUGEPAGE);  // a hint: failure is harmless
#endif
        return static_cast<T*>(p);
    }
    void deallocate(T* p, std::size_t n) noexcept {
        const std::size_t bytes = ((n * sizeof(T) + Alignment - 1) / Alignment) * Alignment;
        ::operator delete(p, std::align_val_t(alignment_for(bytes)));
    }
    template <class U>
    bool operator==(const AlignedAllocator<U, Alignment>&) const noexcept { return true; }
};

template <class T>
using aligned_vector = std::vector<T, AlignedAllocator<T>>;

template <class T>
struct DenseMatrixView {
    using value_type = T;

    T* data = nullptr;
    std::size_t rows = 0;
    std::size_t cols = 0;
    std::size_t stride = 0;  ///< elements between row starts (>= cols)

    constexpr DenseMatrixView() = default;
    constexpr DenseMatrixView(T* ptr, std::size_t num_rows, std::size_t num_cols, std::size_t row_stride = 0)
        : data(ptr), rows(num_rows), cols(num_cols), stride(row_stride ? row_stride : num_cols) {
        if (stride < cols) raise(ErrorKind::invalid_argument, "dense matrix view: stride ", stride, " < cols ", cols);
    }
    /// Views a contiguous span as rows x cols.
    static DenseMatrixView from_span(std::span<T> span, std::size_t num_cols) {
        if (num_cols == 0) raise(ErrorKind::invalid_argument, "dense matrix view: cols must be > 0");
        if (span.size() % num_cols != 0)
            raise(ErrorKind::dimension_mismatch, "dense matrix view: ", span.size(), " values is not a multiple of dimension ", num_cols);
        return DenseMatrixView(span.data(), span.size() / num_cols, num_cols);
    }
    // const view from a mutable one
    template <class U>
        requires(std::is_same_v<const U, T> && !std::is_same_v<U, T>)
    constexpr DenseMatrixView(const DenseMatrixView<U>& other) : data(other.data), rows(other.rows), cols(other.cols), stride(other.stride) {}  // NOLINT

    [[nodiscard]] constexpr T* row_data(std::size_t i) const noexcept { return data + i * stride; }
    [[nodiscard]] constexpr std::span<T> row(std::size_t i) const noexcept { return {data + i * stride, cols}; }
    [[nodiscard]] constexpr std::span<T> operator[](std::size_t i) const noexcept { return row(i); }
    [[nodiscard]] constexpr bool empty() const noexcept { return rows == 0; }
    /// Rows [first, first + count) as a view.
    [[nodiscard]] DenseMatrixView slice(std::size_t first, std::size_t count) const {
        if (first + count > rows) raise(ErrorKind::out_of_range, "dense matrix view: rows ", first, "+", count, " beyond ", rows);
        return DenseMatrixView(data + first * stride, count, cols, stride);
    }
};

/// Owning row-major matrix with aligned, contiguous storage (stride == cols).
template <class T>
class DenseMatrix {
public:
    using value_type = T;
    DenseMatrix() = default;
    DenseMatrix(std::size_t rows, std::size_t cols) : data_(rows * cols), rows_(rows), cols_(cols) {}
    DenseMatrix(std::size_t rows, std::size_t cols, T fill) : data_(rows * cols, fill), rows_(rows), cols_(cols) {}
    explicit DenseMatrix(DenseMatrixView<const T> view) : data_(view.rows * view.cols), rows_(view.rows), cols_(view.cols) {
        for (std::size_t i = 0; i < rows_; ++i) std::copy(view.row(i).begin(), view.row(i).end(), data_.begin() + i * cols_);
    }

    [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
    [[nodiscard]] std::size_t cols() const noexcept { return cols_; }
    [[nodiscard]] T* data() noexcept { return data_.data(); }
    [[nodiscard]] const T* data() const noexcept { return data_.data(); }
    [[nodiscard]] std::span<T> row(std::size_t i) noexcept { return {data_.data() + i * cols_, cols_}; }
    [[nodiscard]] std::span<const T> row(std::size_t i) const noexcept { return {data_.data() + i * cols_, cols_}; }
    [[nodiscard]] std::span<T> operator[](std::size_t i) noexcept { return row(i); }
    [[nodiscard]] std::span<const T> operator[](std::size_t i) const noexcept { return row(i); }
    [[nodiscard]] std::span<const T> values() const noexcept { return {data_.data(), data_.size()}; }
    [[nodiscard]] std::span<T> values() noexcept { return {data_.data(), data_.size()}; }

    [[nodiscard]] DenseMatrixView<T> view() noexcept { return {data_.data(), rows_, cols_}; }
    [[nodiscard]] DenseMatrixView<const T> view() const noexcept { return {data_.data(), rows_, cols_}; }
    operator DenseMatrixView<const T>() const noexcept { return view(); }  // NOLINT

    /// Appends rows (cols must match, or the matrix must be empty).
    void append(DenseMatrixView<const T> more) {
        if (rows_ == 0 && cols_ == 0) cols_ = more.cols;
        if (more.cols != cols_) raise(ErrorKind::dimension_mismatch, "dense matrix append: rows of dimension ", more.cols, ", expected ", cols_);
        data_.resize((rows_ + more.rows) * cols_);
        for (std::size_t i = 0; i < more.rows; ++i) std::copy(more.row(i).begin(), more.row(i).end(), data_.begin() + (rows_ + i) * cols_);
        rows_ += more.rows;
    }
    void resize(std::size_t rows, std::size_t cols) { data_.resize(rows * cols); rows_ = rows; cols_ = cols; }

private:
    aligned_vector<T> data_;
    std::size_t rows_ = 0;
    std::size_t cols_ = 0;
};

}  // namespace sparsedense
