// Fuzz target: io::read_bvecs (TexMex .bvecs): see fuzz_vecs.hpp.
#include "fuzz_vecs.hpp"

using namespace sparsedense;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return fuzz::fuzz_vecs<std::uint8_t>(
        "bvecs", data, size, [](const std::string& p, std::size_t max_rows) { return io::read_bvecs(p, max_rows); },
        [](const std::string& p, DenseMatrixView<const std::uint8_t> m) { io::write_bvecs(p, m); });
}
