// sparsedense/io/vecs_file.hpp
//
// Readers and writers for the TexMex vector formats used by ANN benchmarks: .fvecs (float32), .ivecs (int32),
// .bvecs (uint8). Each row is a little-endian int32 dimension followed by that many values; every row must have
// the same dimension. Readers validate the file size and every row's dimension before copying (a truncated or
// inconsistent file is an Error naming the row), and can stop after `max_rows`. Writers are atomic.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/io/atomic_file.hpp"
#include "sparsedense/io/memory_map.hpp"

namespace sparsedense::io {

namespace detail {
template <class T>
DenseMatrix<T> read_vecs(const std::string& path, std::size_t max_rows, const char* format) {
    const MappedFile file(path, MapAdvice::sequential);
    const std::size_t size = file.size();
    if (size == 0) return {};
    if (size < 4) raise(ErrorKind::corrupt_file, "'", path, "': ", format, " file of ", size, " bytes is truncated");
    std::int32_t dim = 0;
    std::memcpy(&dim, file.data(), 4);
    if (dim <= 0 || dim > (1 << 24)) raise(ErrorKind::corrupt_file, "'", path, "': ", format, " row 0 has dimension ", dim);
    const std::size_t row_bytes = 4 + static_cast<std::size_t>(dim) * sizeof(T);
    if (size % row_bytes != 0)
        raise(ErrorKind::corrupt_file, "'", path, "': size ", size, " is not a multiple of the row size ", row_bytes, " (dimension ", dim,
              "): truncated file or rows of different dimensions");
    const std::size_t rows = std::min(size / row_bytes, max_rows);
    DenseMatrix<T> out(rows, static_cast<std::size_t>(dim));
    for (std::size_t r = 0; r < rows; ++r) {
        const std::byte* p = file.data() + r * row_bytes;
        std::int32_t d = 0;
        std::memcpy(&d, p, 4);
        if (d != dim) raise(ErrorKind::corrupt_file, "'", path, "': ", format, " row ", r, " has dimension ", d, ", row 0 has ", dim);
        std::memcpy(out.row(r).data(), p + 4, static_cast<std::size_t>(dim) * sizeof(T));
    }
    return out;
}

template <class T>
void write_vecs(const std::string& path, DenseMatrixView<const T> m) {
    AtomicFileWriter out(path);
    const auto dim = static_cast<std::int32_t>(m.cols);
    for (std::size_t r = 0; r < m.rows; ++r) {
        out.write(&dim, 4);
        out.write(m.row_data(r), m.cols * sizeof(T));
    }
    out.commit();
}
}  // namespace detail

inline DenseMatrix<float> read_fvecs(const std::string& path, std::size_t max_rows = static_cast<std::size_t>(-1)) {
    return detail::read_vecs<float>(path, max_rows, "fvecs");
}
inline DenseMatrix<std::int32_t> read_ivecs(const std::string& path, std::size_t max_rows = static_cast<std::size_t>(-1)) {
    return detail::read_vecs<std::int32_t>(path, max_rows, "ivecs");
}
inline DenseMatrix<std::uint8_t> read_bvecs(const std::string& path, std::size_t max_rows = static_cast<std::size_t>(-1)) {
    return detail::read_vecs<std::uint8_t>(path, max_rows, "bvecs");
}
inline void write_fvecs(const std::string& path, DenseMatrixView<const float> m) { detail::write_vecs(path, m); }
inline void write_ivecs(const std::string& path, DenseMatrixView<const std::int32_t> m) { detail::write_vecs(path, m); }
inline void write_bvecs(const std::string& path, DenseMatrixView<const std::uint8_t> m) { detail::write_vecs(path, m); }

}  // namespace sparsedense::io
