// sparsedense/io/csr_file.hpp
//
// The BigANN-2023 sparse-track CSR format: int64 nrow, int64 ncol, int64 nnz; int64 indptr[nrow + 1];
// int32 indices[nnz]; float32 data[nnz] (little-endian). read_csr() validates the header against the file size
// (exact match, computed without overflow: the arrays it allocates are never larger than the file), the offsets
// (start at 0, non-decreasing, end at nnz), every column index (0 <= id < ncol) and
// value (finite) before returning a CsrMatrix<float>. The format does not require sorted columns, the library's
// kernels do: rows are sorted by term id on reading (duplicate ids in a row are an Error). write_csr() is atomic.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/io/atomic_file.hpp"
#include "sparsedense/io/memory_map.hpp"

namespace sparsedense::io {

inline CsrMatrix<float> read_csr(const std::string& path) {
    const MappedFile file(path, MapAdvice::sequential);
    const std::size_t size = file.size();
    auto fail = [&](auto&&... parts) { raise(ErrorKind::corrupt_file, "'", path, "': ", parts...); };
    if (size < 24) fail("csr file of ", size, " bytes is shorter than its 24-byte header (truncated)");
    std::int64_t header[3];
    std::memcpy(header, file.data(), 24);
    const std::int64_t nrow = header[0], ncol = header[1], nnz = header[2];
    if (nrow < 0 || ncol < 0 || nnz < 0) fail("negative sizes in header (nrow ", nrow, ", ncol ", ncol, ", nnz ", nnz, ")");
    if (ncol > (std::int64_t{1} << 32)) fail("ncol ", ncol, " exceeds 2^32 term ids");
    const unsigned __int128 expected = 24 + (static_cast<unsigned __int128>(nrow) + 1) * 8 + static_cast<unsigned __int128>(nnz) * 8;
    if (expected != size)
        fail("header says nrow ", nrow, ", nnz ", nnz, " (", static_cast<std::uint64_t>(expected), " bytes) but the file has ", size,
             " bytes (truncated or corrupt)");
    const std::byte* p = file.data() + 24;
    CsrMatrix<float> m(static_cast<std::size_t>(ncol));
    m.indptr.resize(static_cast<std::size_t>(nrow) + 1);
    m.indices.resize(static_cast<std::size_t>(nnz));
    m.values.resize(static_cast<std::size_t>(nnz));
    std::vector<std::int64_t> offsets(static_cast<std::size_t>(nrow) + 1);
    std::memcpy(offsets.data(), p, offsets.size() * 8);
    p += offsets.size() * 8;
    if (offsets.front() != 0) fail("indptr[0] is ", offsets.front(), ", expected 0");
    if (offsets.back() != nnz) fail("indptr[nrow] is ", offsets.back(), ", expected nnz ", nnz);
    for (std::size_t i = 0; i + 1 < offsets.size(); ++i)
        if (offsets[i + 1] < offsets[i]) fail("indptr decreases at row ", i);
    std::copy(offsets.begin(), offsets.end(), m.indptr.begin());
    std::vector<std::int32_t> raw_ids(static_cast<std::size_t>(nnz));
    if (nnz > 0) {  // (memcpy from / to the null data() of an empty vector is undefined, even for 0 bytes)
        std::memcpy(raw_ids.data(), p, raw_ids.size() * 4);
        p += raw_ids.size() * 4;
        std::memcpy(m.values.data(), p, m.values.size() * 4);
    }

    std::vector<std::uint32_t> order;
    std::vector<std::uint32_t> ids_tmp;
    std::vector<float> values_tmp;
    for (std::size_t r = 0; r + 1 < m.indptr.size(); ++r) {
        const std::size_t b = m.indptr[r], e = m.indptr[r + 1];
        bool sorted = true;
        for (std::size_t i = b; i < e; ++i) {
            const std::int64_t id = raw_ids[i];
            if (id < 0 || id >= ncol) fail("row ", r, ": term id ", id, " outside [0, ", ncol, ")");
            if (!std::isfinite(m.values[i])) fail("row ", r, ": weight of term ", id, " is not finite");
            m.indices[i] = static_cast<std::uint32_t>(id);
            if (i > b && m.indices[i] <= m.indices[i - 1]) sorted = false;
        }
        if (!sorted) {
            order.resize(e - b);
            std::iota(order.begin(), order.end(), 0u);
            std::sort(order.begin(), order.end(), [&](std::uint32_t x, std::uint32_t y) { return m.indices[b + x] < m.indices[b + y]; });
            ids_tmp.resize(e - b);
            values_tmp.resize(e - b);
            for (std::size_t i = 0; i < order.size(); ++i) {
                ids_tmp[i] = m.indices[b + order[i]];
                values_tmp[i] = m.values[b + order[i]];
            }
            for (std::size_t i = 0; i < order.size(); ++i) {
                if (i > 0 && ids_tmp[i] == ids_tmp[i - 1]) fail("row ", r, ": duplicate term id ", ids_tmp[i]);
                m.indices[b + i] = ids_tmp[i];
                m.values[b + i] = values_tmp[i];
            }
        }
    }
    return m;
}

inline void write_csr(const std::string& path, CsrMatrixView<float> m) {
    m.validate();
    AtomicFileWriter out(path);
    std::size_t cols = m.cols;
    if (cols == 0)
        for (const std::uint32_t id : m.indices) cols = std::max<std::size_t>(cols, std::size_t{id} + 1);
    const std::int64_t header[3] = {static_cast<std::int64_t>(m.rows()), static_cast<std::int64_t>(cols),
                                    static_cast<std::int64_t>(m.nnz())};
    out.write(header, sizeof header);
    std::vector<std::int64_t> offsets(std::max<std::size_t>(m.indptr.size(), 1), 0);  // an empty matrix: one offset 0
    std::copy(m.indptr.begin(), m.indptr.end(), offsets.begin());
    out.write(offsets.data(), offsets.size() * 8);
    std::vector<std::int32_t> ids(m.indices.begin(), m.indices.end());
    out.write(ids.data(), ids.size() * 4);
    out.write(m.values.data(), m.values.size() * 4);
    out.commit();
}

}  // namespace sparsedense::io
