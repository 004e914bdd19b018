// The fvecs / ivecs / bvecs targets share this body: a file that parses has rows x dim values with dim > 0 (or is
// empty), and a write / read round trip gives the same bytes back.
#pragma once

#include <cstring>

#include "fuzz_support.hpp"
#include "sparsedense/io/vecs_file.hpp"

namespace sparsedense::fuzz {

template <class T, class Read, class Write>
int fuzz_vecs(const char* tag, const std::uint8_t* data, std::size_t size, Read read, Write write) {
    static InputFile in(tag);
    const std::string& path = in.write(data, size);
    std::optional<DenseMatrix<T>> m;
    {
        AllocationBound bound(size);
        m = parse([&] { return read(path, static_cast<std::size_t>(-1)); });
    }
    if (!m) return 0;
    FUZZ_CHECK(m->rows() == 0 || m->cols() > 0);
    FUZZ_CHECK(m->rows() * (4 + m->cols() * sizeof(T)) == size);
    // max_rows cuts without reading further
    const auto head = parse([&] { return read(path, std::size_t{1}); });
    FUZZ_CHECK(head.has_value() && head->rows() == std::min<std::size_t>(1, m->rows()));
    if (m->rows() == 0) return 0;
    const std::string copy = in.sibling(".copy");
    FUZZ_CHECK(run([&] { write(copy, m->view()); }));
    const auto again = parse([&] { return read(copy, static_cast<std::size_t>(-1)); });
    FUZZ_CHECK(again.has_value() && again->rows() == m->rows() && again->cols() == m->cols());
    FUZZ_CHECK(std::memcmp(again->data(), m->data(), m->rows() * m->cols() * sizeof(T)) == 0);
    return 0;
}

}  // namespace sparsedense::fuzz
