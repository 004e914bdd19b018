// Fuzz target: io::read_fvecs (TexMex .fvecs): see fuzz_vecs.hpp.
#include "fuzz_vecs.hpp"

using namespace sparsedense;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return fuzz::fuzz_vecs<float>(
        "fvecs", data, size, [](const std::string& p, std::size_t max_rows) { return io::read_fvecs(p, max_rows); },
        [](const std::string& p, DenseMatrixView<const float> m) { io::write_fvecs(p, m); });
}
