// sparsedense/dense/ivf_pq_index_file.hpp
//
// The file format of IvfPqIndex (IVFADC with fast-scan lists, dense/ivf_pq_index.hpp), kept outside the index class
// as FAISS keeps index I/O apart from the index types. The container is io/binary_format.hpp (64-byte aligned
// named sections, checksums, atomic write), so load maps the file and views the big arrays in place:
//   meta        one Meta (dimension, metric, id width, nlist, m, nbits, flags, encoding, entries)
//   centroids   nlist x d f32 (mapped: CoarseQuantizer keeps the view)
//   rotation    d x d f32 when OPQ is used (copied: small)
//   codebooks   d x 2^nbits f32 (mapped; the ProductQuantizer derives its transposed copy for the LUT kernel)
//   id_offsets, code_offsets, list_ids, codes, list_of, positions   InvertedLists (mapped, dense/inverted_lists.hpp)
//   external    internal -> external id (mapped)
//   s_*         the kept vectors (VectorStore's own sections)
// Format 2 added `positions` (the id-to-position map); format 1 files still load (positions recomputed).
// read() validates every header field, size, offset and id before use: a corrupt, truncated, foreign or
// wrong-version file throws sparsedense::Error and never yields a broken index.
#pragma once

#include <cstddef>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/dense/inverted_lists.hpp"
#include "sparsedense/dense/vector_store.hpp"
#include "sparsedense/io/binary_format.hpp"

namespace sparsedense::ivf_pq_file {

inline constexpr const char* kKind = "IvfPqIndex";
inline constexpr std::uint32_t kVersion = 2;         ///< written
inline constexpr std::uint32_t kOldestVersion = 1;   ///< oldest read

struct Meta {
    std::uint64_t dimension;
    std::uint32_t metric;
    std::uint32_t id_bytes;
    std::uint64_t nlist;
    std::uint64_t m;
    std::uint32_t nbits;
    std::uint32_t by_residual;
    std::uint32_t keep_vectors;
    std::uint32_t refine_encoding;
    std::uint32_t opq;
    std::uint32_t explicit_ids;
    std::uint64_t entries;
};

/// What a file holds, big arrays as views into the mapping.
template <class Id>
struct Contents {
    Meta meta{};
    io::Buffer<float> centroids;
    DenseMatrix<float> rotation;
    io::Buffer<float> codebooks;
    InvertedLists lists;
    VectorStore store;
    io::Buffer<Id> external;
};

/// Writes an index atomically.
template <class Id>
void write(const std::string& path, const Meta& meta, std::span<const float> centroids, std::span<const float> rotation,
           std::span<const float> codebooks, const InvertedLists& lists, const VectorStore* store, std::span<const Id> external) {
    io::SectionWriter w(kKind, kVersion);
    w.add_value("meta", meta);
    w.add<float>("centroids", centroids);
    w.add<float>("rotation", rotation);
    w.add<float>("codebooks", codebooks);
    std::vector<std::uint64_t> id_offsets, code_offsets;  // kept alive until write()
    std::vector<std::uint32_t> ids;
    std::vector<std::uint8_t> codes;
    lists.add_sections(w, id_offsets, code_offsets, ids, codes);
    w.add<Id>("external", external);
    if (store) store->add_sections(w, "s_");
    w.write(path);
}

/// Largest magnitude a stored model value may have: squares summed over 2^24 dimensions stay finite in float.
inline constexpr float kMaxModelValue = 1e15f;

/// The header fields a reader can trust (everything else is checked against them).
inline void check_meta(const io::SectionReader& r, const Meta& meta, std::size_t id_bytes) {
    const std::size_t d = meta.dimension;
    if (d == 0 || d > (1u << 24) || meta.metric > 2 || meta.nlist == 0 || meta.nlist > (1u << 28) || meta.m == 0 || meta.m > d ||
        (meta.nbits != 4 && meta.nbits != 8) || (meta.nbits == 4 && meta.m > 256) || meta.refine_encoding > kMaxVectorEncoding || meta.by_residual > 1 ||
        meta.keep_vectors > 1 || meta.opq > 1 || meta.explicit_ids > 1 || meta.entries >= InvertedLists::kRemoved)
        r.fail(ErrorKind::corrupt_file, "invalid index header");
    if (meta.id_bytes != id_bytes)
        r.fail(ErrorKind::invalid_data, "file holds ", meta.id_bytes * 8, "-bit ids, this index type uses ", id_bytes * 8, "-bit ids");
}

/// Maps and validates a file written by write().
template <class Id>
Contents<Id> read(const std::string& path) {
    const io::SectionReader r(path, kKind, kOldestVersion, kVersion);
    Contents<Id> c;
    c.meta = r.value<Meta>("meta");
    const Meta& meta = c.meta;
    check_meta(r, meta, sizeof(Id));
    const std::size_t d = meta.dimension, nlist = meta.nlist;
    c.centroids = r.buffer<float>("centroids", nlist * d);
    const auto rot = r.span<float>("rotation", meta.opq ? d * d : 0);
    if (meta.opq) {
        c.rotation = DenseMatrix<float>(d, d);
        std::copy(rot.begin(), rot.end(), c.rotation.data());
    }
    c.codebooks = r.buffer<float>("codebooks", d * (std::size_t{1} << meta.nbits));
    // non-finite model values, or values so large that sums of their products overflow to inf (and inf - inf to
    // NaN), would spoil every score: refuse them
    auto require_finite = [&](std::span<const float> values, const char* what) {
        for (std::size_t i = 0; i < values.size(); ++i)
            if (!(std::fabs(values[i]) <= kMaxModelValue))
                r.fail(ErrorKind::corrupt_file, what, " value ", i, " is ", values[i], " (not finite, or beyond +-", kMaxModelValue, ")");
    };
    require_finite(c.centroids.span(), "centroid");
    require_finite(rot, "rotation");
    require_finite(c.codebooks.span(), "codebook");
    c.lists = InvertedLists::read_sections(r, nlist, meta.m, meta.nbits, meta.entries);
    c.external = r.buffer<Id>("external", meta.entries);
    if (meta.keep_vectors)
        c.store = VectorStore::read_sections(r, "s_", d, static_cast<VectorEncoding>(meta.refine_encoding), meta.entries);
    return c;
}

}  // namespace sparsedense::ivf_pq_file
