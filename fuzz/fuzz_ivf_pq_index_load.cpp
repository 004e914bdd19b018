// Fuzz target: IvfPqIndex<>::load (fuzz_index.hpp); a loaded index is searched (every list probed), re-scored by
// external id, saved and loaded again.
#include <cmath>
#include <cstring>
#include <span>

#include "fuzz_index.hpp"
#include "sparsedense/dense/ivf_pq_index.hpp"

using namespace sparsedense;

// Known bug KB-1 (docs/reliability.md; tests/fuzz_regressions/known_bugs/ivf_pq_index_load/): load() checks that
// the list offsets increase one list at a time while it copies each list, so an offset beyond the list data
// (followed by a smaller one) makes it copy from outside the section -- or allocate 2^62 bytes -- before the
// check that would catch it. Known bug KB-2: with explicit_ids = 0 the "external" id table is not checked to be
// the identity, so search() returns ids that score() then rejects as unknown. Known bug KB-4: non-finite
// centroids, rotation, codebooks or kept vectors are accepted, and search() then reports NaN scores. Skips
// exactly those files.
static bool known_bug(const std::string& path) {
    try {
        const io::SectionReader r(path, "IvfPqIndex", IvfPqIndex<>::kFormatVersion, IvfPqIndex<>::kFormatVersion);
        const auto beyond = [](std::span<const std::uint64_t> offsets, std::size_t count) {
            for (const auto o : offsets)
                if (o > count) return true;
            return false;
        };
        if (beyond(r.span<std::uint64_t>("id_offsets"), r.span<std::uint32_t>("list_ids").size())) return true;
        if (beyond(r.span<std::uint64_t>("code_offsets"), r.span<std::uint8_t>("codes").size())) return true;
        // KB-2: with explicit_ids = 0 the loader does not check that the "external" table is the identity
        struct Meta {  // the file's meta section (IvfPqIndex::FileMeta, 64 bytes)
            std::uint64_t dimension;
            std::uint32_t metric, id_bytes;
            std::uint64_t nlist, m;
            std::uint32_t nbits, by_residual, keep_vectors, refine_encoding, opq, explicit_ids;
            std::uint64_t entries;
        };
        static_assert(sizeof(Meta) == 64);
        // KB-4: non-finite centroids, rotation, codebooks or kept vectors are not refused (NaN scores follow)
        for (const char* name : {"centroids", "rotation", "codebooks", "s_rscale", "s_dscale"})
            if (r.has(name))
                for (const float x : r.span<float>(name))
                    if (!std::isfinite(x)) return true;
        if (r.value<Meta>("meta").refine_encoding == 0 && r.has("s_values")) {
            const auto v = r.span<std::uint8_t>("s_values");
            for (std::size_t i = 0; i + 4 <= v.size(); i += 4) {
                float x;
                std::memcpy(&x, v.data() + i, 4);
                if (!std::isfinite(x)) return true;
            }
        }
        if (r.value<Meta>("meta").explicit_ids == 0) {
            const auto external = r.span<std::uint32_t>("external");
            for (std::size_t i = 0; i < external.size(); ++i)
                if (external[i] != i) return true;
        }
    } catch (const Error&) {
    }
    return false;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return fuzz::fuzz_index_load<IvfPqIndex<>>("ivfpq", data, size, false, false, fuzz::dense_queries,
                                               [](const IvfPqIndex<>& ix, const std::vector<float>& q) {
                                                   IvfPqIndexSearchParams p;
                                                   p.nprobe = ix.nlist();
                                                   return ix.search(q, 10, p);
                                               },
                                               known_bug);
}
