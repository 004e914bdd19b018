// Fuzz target: io::read_csr (BigANN-2023 sparse CSR). A file that parses must hold a valid CSR matrix (sorted,
// in-range term ids, finite weights) and survive a write_csr / read_csr round trip unchanged.
#include <cstring>

#include "fuzz_support.hpp"
#include "sparsedense/io/csr_file.hpp"

using namespace sparsedense;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static fuzz::InputFile in("csr");
    const std::string& path = in.write(data, size);
    std::optional<CsrMatrix<float>> m;
    {
        fuzz::AllocationBound bound(size);
        m = fuzz::parse([&] { return io::read_csr(path); });
    }
    if (!m) return 0;
    FUZZ_CHECK(fuzz::run([&] { m->validate(); }));
    const std::string copy = in.sibling(".copy");
    FUZZ_CHECK(fuzz::run([&] { io::write_csr(copy, *m); }));
    const auto again = fuzz::parse([&] { return io::read_csr(copy); });
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->indptr == m->indptr && again->indices == m->indices);
    FUZZ_CHECK(again->values.size() == m->values.size());
    if (!m->values.empty()) FUZZ_CHECK(std::memcmp(again->values.data(), m->values.data(), m->values.size() * sizeof(float)) == 0);
    FUZZ_CHECK(again->cols == m->cols || (m->cols == 0 && m->nnz() == 0));
    return 0;
}
