// Fuzz target: io::read_ivecs (TexMex .ivecs): see fuzz_vecs.hpp.
#include "fuzz_vecs.hpp"

using namespace sparsedense;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return fuzz::fuzz_vecs<std::int32_t>(
        "ivecs", data, size, [](const std::string& p, std::size_t max_rows) { return io::read_ivecs(p, max_rows); },
        [](const std::string& p, DenseMatrixView<const std::int32_t> m) { io::write_ivecs(p, m); });
}
