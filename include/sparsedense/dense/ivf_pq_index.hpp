// sparsedense/dense/ivf_pq_index.hpp
//
// IvfPqIndex: inverted file with product-quantized residuals ("IVFADC", Jégou, Douze & Schmid, TPAMI 2011), with
// 4-bit fast-scan inside the lists (André et al., VLDB 2015, as in FAISS and ScaNN) and exact re-ranking.
//   * Coarse quantizer: k-means with nlist centroids; each vector goes to the list of its nearest centroid (L2).
//     A query probes the nprobe lists whose centroids are nearest (one simd::dot_many over all centroids).
//   * Each vector is stored as a PQ code of its residual x - c (by_residual) and its internal id. With nbits = 4
//     codes live in fast-scan blocks of 32 and are scanned with u8 LUTs in registers; with nbits = 8 they are
//     scanned with float LUTs (ADC).
//   * LUTs: for inner product / cosine, <q, c + r> = <q, c> + <q, r>: the LUT of <q, r> does not depend on the
//     list, so it is computed and quantized once per query and each list only adds its constant <q, c>. For L2 the
//     residual query q - c gives one LUT per probed list (16 d FLOP for 4 bits).
//   * Re-ranking: the best k * refine_factor candidates by PQ score are re-scored exactly against stored vectors
//     (VectorStore: f32, f16, bf16 or int8; keep_vectors = false stores none and then candidates are re-scored
//     with float LUTs). refine_factor trades latency for recall; with nprobe = nlist and a refine_factor that
//     covers every vector the result is the exact top-k.
//   * External ids (u32 or u64), add after training, remove by id (swap-with-last inside the list; the stored
//     vector slot becomes a tombstone), search from many threads (per-thread scratch: no allocation per query
//     once warm except the returned vector).
// An optional rotation (train_opq() of opq.hpp) is applied to every vector and query before the coarse quantizer.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/core/search_result.hpp"
#include "sparsedense/core/top_k_collector.hpp"
#include "sparsedense/core/validation.hpp"
#include "sparsedense/simd/pq_kernels.hpp"
#include "sparsedense/core/parallel.hpp"
#include "sparsedense/dense/kmeans.hpp"
#include "sparsedense/dense/metric.hpp"
#include "sparsedense/dense/rotation.hpp"
#include "sparsedense/dense/product_quantizer.hpp"
#include "sparsedense/dense/vector_store.hpp"
#include "sparsedense/io/binary_format.hpp"
#include "sparsedense/simd/dense_kernels.hpp"

namespace sparsedense {

struct IvfPqIndexBuildParams {
    std::size_t nlist = 1024;                          ///< coarse clusters (lists)
    std::size_t m = 32;                                ///< PQ sub-quantizers
    std::size_t nbits = 4;                             ///< 4 = fast-scan, 8 = float-LUT ADC
    bool by_residual = true;                           ///< encode x - centroid (better codes) or x itself
    bool keep_vectors = true;                          ///< keep vectors for exact re-ranking and score()
    VectorEncoding refine_encoding = VectorEncoding::f16;  ///< precision of the kept vectors
    std::size_t coarse_iterations = 10;                ///< k-means iterations of the coarse quantizer
    std::size_t coarse_points_per_centroid = 64;       ///< coarse training sample = nlist * this
    std::size_t pq_iterations = 20;                    ///< k-means iterations per PQ sub-space
    std::size_t pq_training_points = 65536;
    std::uint64_t seed = 2024;
    std::size_t threads = 0;                           ///< threads for training and adding (0 = all)
};

struct IvfPqIndexSearchParams {
    std::size_t nprobe = 16;         ///< lists scanned per query
    std::size_t refine_factor = 4;   ///< re-rank the best k * refine_factor PQ candidates (0 = no exact re-rank)
};

template <class Id = std::uint32_t>
class IvfPqIndex {
    static_assert(std::is_same_v<Id, std::uint32_t> || std::is_same_v<Id, std::uint64_t>, "IvfPqIndex ids are u32 or u64");

public:
    using id_type = Id;
    using result_type = SearchResult<Id, float>;
    static constexpr std::uint32_t kRemoved = 0xFFFFFFFFu;

    IvfPqIndex() = default;
    IvfPqIndex(std::size_t dimension, Metric metric, IvfPqIndexBuildParams params = {})
        : dim_(dimension), metric_(metric), params_(params), pq_(dimension, params.m, params.nbits) {
        if (params.nlist == 0) raise(ErrorKind::invalid_argument, "IvfPqIndex: nlist must be > 0");
        if (params.keep_vectors) store_ = VectorStore(dimension, params.refine_encoding);
    }

    [[nodiscard]] std::size_t dimension() const noexcept { return dim_; }
    [[nodiscard]] Metric metric() const noexcept { return metric_; }
    [[nodiscard]] const IvfPqIndexBuildParams& params() const noexcept { return params_; }
    [[nodiscard]] std::size_t nlist() const noexcept { return params_.nlist; }
    [[nodiscard]] bool is_trained() const noexcept { return pq_.trained(); }
    [[nodiscard]] std::size_t size() const noexcept { return live_; }
    [[nodiscard]] const ProductQuantizer& pq() const noexcept { return pq_; }
    [[nodiscard]] bool keeps_vectors() const noexcept { return params_.keep_vectors; }
    /// Number of vectors in list l.
    [[nodiscard]] std::size_t list_size(std::size_t l) const noexcept { return lists_[l].ids.size(); }

    /// Bytes per indexed vector: PQ code + internal id + kept vector (coarse centroids and codebooks excluded).
    [[nodiscard]] double bytes_per_vector() const noexcept {
        const double code = params_.nbits == 4 ? params_.m / 2.0 : static_cast<double>(params_.m);
        return code + 4.0 + (params_.keep_vectors ? static_cast<double>(store_.bytes_per_vector()) : 0.0) +
               (explicit_ids_ ? sizeof(Id) : 0.0);
    }
    /// Total heap bytes of the index (lists incl. block padding, centroids, codebooks, kept vectors, id maps).
    [[nodiscard]] std::size_t memory_bytes() const noexcept {
        std::size_t b = centroids_.values().size() * 4 + pq_.codebooks().size() * 4 + store_.memory_bytes() + rotation_.values().size() * 4;
        for (const auto& l : lists_) b += l.codes.capacity() + l.ids.capacity() * 4;
        b += external_.capacity() * sizeof(Id) + list_of_.capacity() * 4 + lookup_.size() * (sizeof(Id) + 4 + 16);
        return b;
    }

    /// Learns the coarse quantizer and the PQ codebooks from `data` (>= nlist rows). With a `rotation` (d x d,
    /// orthonormal rows, e.g. from train_opq() in opq.hpp, as FAISS's OPQMatrix pre-transform), every vector and
    /// query is rotated before the coarse quantizer and PQ; scores are unchanged because a rotation preserves them.
    void train(DenseMatrixView<const float> data, DenseMatrix<float> rotation = {}) {
        require_configured();
        if (!external_.empty()) raise(ErrorKind::invalid_argument, "IvfPqIndex: train() on an index that already holds vectors (build a new index)");
        validate_dimension(dim_, data.cols, "training vectors");
        const std::size_t min_rows = std::max(params_.nlist, pq_.ksub());
        if (data.rows < min_rows)
            raise(ErrorKind::invalid_argument, "IvfPqIndex::train: ", data.rows, " training vectors, need at least ", min_rows,
                  " (nlist = ", params_.nlist, " coarse centroids and ", pq_.ksub(), " PQ centroids per sub-space for nbits = ", params_.nbits, ")");
        if (!rotation.values().empty()) validate_rotation(rotation, dim_, "IvfPqIndex::train");
        // everything is trained into locals and committed at the end: bad data (NaN) or a failure part-way leaves
        // the index as it was
        const DenseMatrix<float> x = prepare_rows(data, rotation);
        KMeansParams kp;
        kp.k = params_.nlist;
        kp.iterations = params_.coarse_iterations;
        kp.max_points_per_centroid = params_.coarse_points_per_centroid;
        kp.seed = params_.seed;
        kp.threads = params_.threads;
        KMeans km(kp);
        km.train(x.view());
        DenseMatrix<float> centroids = km.centroids();
        KMeans coarse(kp);
        coarse.set_centroids(centroids);
        std::vector<float> centroid_norms(params_.nlist);
        for (std::size_t c = 0; c < params_.nlist; ++c) centroid_norms[c] = simd::dot(centroids.row(c).data(), centroids.row(c).data(), dim_);
        // PQ on (a sample of) the residuals
        const std::size_t ns = std::min<std::size_t>(x.rows(), params_.pq_training_points ? params_.pq_training_points : x.rows());
        DenseMatrix<float> sample(ns, dim_);
        for (std::size_t i = 0; i < ns; ++i) std::copy_n(x.row(i * x.rows() / ns).data(), dim_, sample.row(i).data());
        if (params_.by_residual) {
            const auto assign = coarse.assign(sample.view());
            for (std::size_t i = 0; i < ns; ++i)
                for (std::size_t j = 0; j < dim_; ++j) sample[i][j] -= centroids[assign[i]][j];
        }
        ProductQuantizerParams pp;
        pp.m = params_.m;
        pp.nbits = params_.nbits;
        pp.iterations = params_.pq_iterations;
        pp.max_training_points = 0;
        pp.seed = params_.seed + 1;
        pp.threads = params_.threads;
        ProductQuantizer pq(dim_, params_.m, params_.nbits);
        pq.train(sample.view(), pp);
        rotation_ = std::move(rotation);
        centroids_ = std::move(centroids);
        coarse_ = std::move(coarse);
        centroid_norms_ = std::move(centroid_norms);
        pq_ = std::move(pq);
        lists_.assign(params_.nlist, List{});
    }

    /// Adds vectors with ids size_of_history, size_of_history + 1, ... (the internal positions).
    void add(DenseMatrixView<const float> vectors) {
        if (explicit_ids_) raise(ErrorKind::invalid_argument, "IvfPqIndex: this index uses explicit ids; pass ids to add()");
        add_impl(vectors, {});
    }
    /// Adds vectors with caller-chosen ids (must be new and unique).
    void add(DenseMatrixView<const float> vectors, std::span<const Id> ids) {
        if (ids.size() != vectors.rows) raise(ErrorKind::dimension_mismatch, "IvfPqIndex: ", vectors.rows, " vectors but ", ids.size(), " ids");
        if (!explicit_ids_ && !external_.empty()) raise(ErrorKind::invalid_argument, "IvfPqIndex: this index uses automatic ids; call add() without ids");
        add_impl(vectors, ids);
    }

    /// Removes the vectors with these ids; unknown ids are ignored. Returns how many were removed.
    std::size_t remove(std::span<const Id> ids) {
        std::size_t removed = 0;
        for (const Id id : ids) {
            std::uint32_t internal = 0;
            if (!find_internal(id, internal)) continue;
            const std::uint32_t l = list_of_[internal];
            List& list = lists_[l];
            const std::size_t pos = static_cast<std::size_t>(std::find(list.ids.begin(), list.ids.end(), internal) - list.ids.begin());
            const std::size_t last = list.ids.size() - 1;
            if (pos != last) copy_code(list, last, pos);
            list.ids[pos] = list.ids[last];
            list.ids.pop_back();
            if (params_.nbits == 4) {
                const std::size_t bb = simd::fast_scan_layout::block_bytes(params_.m);
                for (std::size_t s = 0; s < params_.m; ++s) simd::fast_scan_layout::set_code(list.codes.data() + (last / 32) * bb, last % 32, s, 0);
                list.codes.resize(((list.ids.size() + 31) / 32) * bb);
            } else {
                list.codes.resize(list.ids.size() * params_.m);
            }
            list_of_[internal] = kRemoved;
            if (explicit_ids_) lookup_.erase(id);
            --live_;
            ++removed;
        }
        return removed;
    }

    /// Approximate top-k (exact re-ranking of k * refine_factor candidates when vectors are kept).
    [[nodiscard]] SearchResults<Id> search(std::span<const float> query, std::size_t k, const IvfPqIndexSearchParams& sp = {}) const {
        require_trained();
        validate_k(k, "IvfPqIndex::search");
        validate_dimension(dim_, query.size(), "IvfPqIndex::search: query");
        validate_finite(query, -1, "query");
        if (sp.nprobe == 0) raise(ErrorKind::invalid_argument, "IvfPqIndex: nprobe must be > 0");
        Scratch& s = scratch();
        SearchResults<Id> out;
        search_one(query.data(), k, sp, s, out);
        return out;
    }

    /// search() for every row of `queries`, split over threads (0 = all hardware threads).
    [[nodiscard]] std::vector<SearchResults<Id>> search_batch(DenseMatrixView<const float> queries, std::size_t k,
                                                              const IvfPqIndexSearchParams& sp = {}, std::size_t threads = 1) const {
        require_trained();
        validate_k(k, "IvfPqIndex::search_batch");
        validate_dimension(dim_, queries.cols, "IvfPqIndex::search_batch: queries");
        for (std::size_t i = 0; i < queries.rows; ++i) validate_finite(std::span<const float>(queries.row(i)), static_cast<long long>(i), "queries");
        if (sp.nprobe == 0) raise(ErrorKind::invalid_argument, "IvfPqIndex: nprobe must be > 0");
        std::vector<SearchResults<Id>> out(queries.rows);
        detail::parallel_for(queries.rows, threads, [&](std::size_t b, std::size_t e, std::size_t) {
            Scratch& s = scratch();
            for (std::size_t i = b; i < e; ++i) search_one(queries.row_data(i), k, sp, s, out[i]);
        });
        return out;
    }

    /// Exact score of the query against the kept vector of `id` (same convention and value as re-ranked search
    /// results). Needs keep_vectors; throws Error for unknown ids.
    [[nodiscard]] float score(std::span<const float> query, Id id) const {
        validate_dimension(dim_, query.size(), "query");
        validate_finite(query, -1, "query");
        if (!params_.keep_vectors) raise(ErrorKind::unsupported, "IvfPqIndex: score() needs keep_vectors = true");
        std::uint32_t internal = 0;
        if (!find_internal(id, internal)) raise(ErrorKind::out_of_range, "IvfPqIndex: unknown id ", static_cast<unsigned long long>(id));
        Scratch& s = scratch();
        const float* q = prepare_query(query.data(), s);
        return exact_score(q, internal, metric_ == Metric::l2 && store_.is_int8() ? simd::dot(q, q, dim_) : 0.0f);
    }

    // ---- raw state for save/load (ivf_pq_io.hpp)
    struct List {
        std::vector<std::uint8_t> codes;   // nbits 4: fast-scan blocks; nbits 8: size * m bytes
        std::vector<std::uint32_t> ids;    // internal ids
    };
    [[nodiscard]] const std::vector<List>& lists() const noexcept { return lists_; }
    [[nodiscard]] const DenseMatrix<float>& centroids() const noexcept { return centroids_; }
    [[nodiscard]] const DenseMatrix<float>& rotation() const noexcept { return rotation_; }
    [[nodiscard]] const VectorStore& store() const noexcept { return store_; }
    [[nodiscard]] const std::vector<Id>& external_ids() const noexcept { return external_; }
    [[nodiscard]] const std::vector<std::uint32_t>& list_of() const noexcept { return list_of_; }
    [[nodiscard]] bool explicit_ids() const noexcept { return explicit_ids_; }

    /// Rebuilds an index from raw state (validated: throws Error{corrupt_file} on inconsistency).
    static IvfPqIndex from_parts(std::size_t dimension, Metric metric, IvfPqIndexBuildParams params, DenseMatrix<float> centroids,
                                 DenseMatrix<float> rotation, std::span<const float> codebooks, std::vector<List> lists,
                                 VectorStore store, std::vector<Id> external, std::vector<std::uint32_t> list_of, bool explicit_ids) {
        auto bad = [](const char* what) { raise(ErrorKind::corrupt_file, "IvfPqIndex file: inconsistent ", what); };
        IvfPqIndex ix(dimension, metric, params);
        if (centroids.rows() != params.nlist || centroids.cols() != dimension) bad("centroids");
        if (!rotation.values().empty() && (rotation.rows() != dimension || rotation.cols() != dimension)) bad("rotation");
        if (lists.size() != params.nlist) bad("list count");
        if (external.size() != list_of.size()) bad("id table");
        if (params.keep_vectors && store.size() != external.size()) bad("stored vectors");
        ix.pq_.set_codebooks(codebooks);
        std::size_t live = 0;
        std::vector<std::uint8_t> seen(external.size(), 0);
        for (std::size_t l = 0; l < lists.size(); ++l) {
            const auto& list = lists[l];
            const std::size_t want = params.nbits == 4 ? ((list.ids.size() + 31) / 32) * simd::fast_scan_layout::block_bytes(params.m)
                                                       : list.ids.size() * params.m;
            if (list.codes.size() != want) bad("list codes");
            for (std::uint32_t id : list.ids) {
                if (id >= external.size() || list_of[id] != l || seen[id]) bad("list ids");
                seen[id] = 1;
            }
            live += list.ids.size();
        }
        for (std::size_t i = 0; i < list_of.size(); ++i)
            if (list_of[i] != kRemoved && !seen[i]) bad("list membership");
        ix.centroids_ = std::move(centroids);
        ix.rotation_ = std::move(rotation);
        ix.lists_ = std::move(lists);
        if (params.keep_vectors) ix.store_ = std::move(store);
        ix.external_ = std::move(external);
        ix.list_of_ = std::move(list_of);
        ix.explicit_ids_ = explicit_ids;
        ix.live_ = live;
        ix.finish_load();
        return ix;
    }

    static constexpr std::uint32_t kFormatVersion = 1;

    /// Writes the index atomically (temp file + fsync + rename) in the section format of io/binary_format.hpp.
    void save(const std::string& path) const {
        require_trained();
        FileMeta meta{};
        meta.dimension = dim_;
        meta.metric = static_cast<std::uint32_t>(metric_);
        meta.id_bytes = sizeof(Id);
        meta.nlist = params_.nlist;
        meta.m = params_.m;
        meta.nbits = params_.nbits;
        meta.by_residual = params_.by_residual;
        meta.keep_vectors = params_.keep_vectors;
        meta.refine_encoding = static_cast<std::uint32_t>(params_.refine_encoding);
        meta.opq = !rotation_.values().empty();
        meta.explicit_ids = explicit_ids_;
        meta.entries = external_.size();
        std::vector<std::uint64_t> id_offsets(lists_.size() + 1, 0), code_offsets(lists_.size() + 1, 0);
        for (std::size_t l = 0; l < lists_.size(); ++l) {
            id_offsets[l + 1] = id_offsets[l] + lists_[l].ids.size();
            code_offsets[l + 1] = code_offsets[l] + lists_[l].codes.size();
        }
        std::vector<std::uint32_t> ids;
        std::vector<std::uint8_t> codes;
        ids.reserve(id_offsets.back());
        codes.reserve(code_offsets.back());
        for (const auto& l : lists_) {
            ids.insert(ids.end(), l.ids.begin(), l.ids.end());
            codes.insert(codes.end(), l.codes.begin(), l.codes.end());
        }
        io::SectionWriter w("IvfPqIndex", kFormatVersion);
        w.add_value("meta", meta);
        w.add<float>("centroids", centroids_.values());
        w.add<float>("rotation", rotation_.values());
        w.add<float>("codebooks", pq_.codebooks());
        w.add("id_offsets", id_offsets);
        w.add("code_offsets", code_offsets);
        w.add("list_ids", ids);
        w.add("codes", codes);
        w.add("external", external_);
        w.add("list_of", list_of_);
        if (params_.keep_vectors) store_.add_sections(w, "s_");
        w.write(path);
    }

    /// Maps and validates a file written by save(): every size, offset and id is checked before use, so a corrupt,
    /// truncated, foreign or wrong-version file throws Error and never yields a broken index.
    static IvfPqIndex load(const std::string& path) {
        const io::SectionReader r(path, "IvfPqIndex", kFormatVersion, kFormatVersion);
        const auto meta = r.value<FileMeta>("meta");
        const std::size_t d = meta.dimension;
        if (d == 0 || d > (1u << 24) || meta.metric > 2 || meta.nlist == 0 || meta.nlist > (1u << 28) || meta.m == 0 || meta.m > d ||
            (meta.nbits != 4 && meta.nbits != 8) || (meta.nbits == 4 && meta.m > 256) || meta.refine_encoding > 4 || meta.by_residual > 1 ||
            meta.keep_vectors > 1 || meta.opq > 1 || meta.explicit_ids > 1 || meta.entries >= kRemoved)
            r.fail(ErrorKind::corrupt_file, "invalid index header");
        if (meta.id_bytes != sizeof(Id))
            r.fail(ErrorKind::invalid_data, "file holds ", meta.id_bytes * 8, "-bit ids, this index type uses ", sizeof(Id) * 8, "-bit ids");
        IvfPqIndexBuildParams p;
        p.nlist = meta.nlist;
        p.m = meta.m;
        p.nbits = meta.nbits;
        p.by_residual = meta.by_residual != 0;
        p.keep_vectors = meta.keep_vectors != 0;
        p.refine_encoding = static_cast<VectorEncoding>(meta.refine_encoding);
        const std::size_t nlist = meta.nlist;
        const auto cents = r.span<float>("centroids", nlist * d);
        const auto rot = r.span<float>("rotation", meta.opq ? d * d : 0);
        const auto codebooks = r.span<float>("codebooks", d * (std::size_t{1} << meta.nbits));
        const auto id_off = r.span<std::uint64_t>("id_offsets", nlist + 1);
        const auto code_off = r.span<std::uint64_t>("code_offsets", nlist + 1);
        const auto ids = r.span<std::uint32_t>("list_ids");
        const auto codes = r.span<std::uint8_t>("codes");
        if (id_off[0] != 0 || code_off[0] != 0 || id_off[nlist] != ids.size() || code_off[nlist] != codes.size())
            r.fail(ErrorKind::corrupt_file, "list offsets do not match the list data");
        std::vector<List> lists(nlist);
        for (std::size_t l = 0; l < nlist; ++l) {
            if (id_off[l + 1] < id_off[l] || code_off[l + 1] < code_off[l]) r.fail(ErrorKind::corrupt_file, "list offsets are not increasing");
            lists[l].ids.assign(ids.begin() + static_cast<std::ptrdiff_t>(id_off[l]), ids.begin() + static_cast<std::ptrdiff_t>(id_off[l + 1]));
            lists[l].codes.assign(codes.begin() + static_cast<std::ptrdiff_t>(code_off[l]), codes.begin() + static_cast<std::ptrdiff_t>(code_off[l + 1]));
        }
        DenseMatrix<float> centroids(nlist, d), rotation;
        std::copy(cents.begin(), cents.end(), centroids.data());
        if (meta.opq) {
            rotation = DenseMatrix<float>(d, d);
            std::copy(rot.begin(), rot.end(), rotation.data());
        }
        const auto ext = r.span<Id>("external", meta.entries);
        const auto lof = r.span<std::uint32_t>("list_of", meta.entries);
        VectorStore store;
        if (p.keep_vectors) store = VectorStore::read_sections(r, "s_", d, p.refine_encoding, meta.entries);
        IvfPqIndex ix = from_parts(d, static_cast<Metric>(meta.metric), p, std::move(centroids), std::move(rotation), codebooks, std::move(lists),
                                   std::move(store), std::vector<Id>(ext.begin(), ext.end()), std::vector<std::uint32_t>(lof.begin(), lof.end()),
                                   meta.explicit_ids != 0);
        if (ix.explicit_ids_ && ix.lookup_.size() != ix.live_) r.fail(ErrorKind::corrupt_file, "duplicate external ids");
        return ix;
    }

private:
    struct FileMeta {
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

    struct Scratch {
        std::vector<float> query, residual, coarse, lut;
        QuantizedLut qlut;
        std::vector<std::uint16_t> sums;
        std::vector<std::uint32_t> masks;
        TopKCollector<std::uint32_t, float> probes{1}, candidates{1}, final_top{1};
    };
    static Scratch& scratch() {
        static thread_local Scratch s;
        return s;
    }

    void require_configured() const {
        if (dim_ == 0)
            raise(ErrorKind::invalid_argument, "IvfPqIndex: this index was default-constructed (dimension 0); construct it with "
                                               "IvfPqIndex(dimension, metric, params) or load() one");
    }
    void require_trained() const {
        require_configured();
        if (!is_trained()) raise(ErrorKind::invalid_argument, "IvfPqIndex: index is not trained (call train() first)");
    }

    void finish_load() {
        coarse_ = KMeans(KMeansParams{.k = params_.nlist});
        coarse_.set_centroids(centroids_);
        centroid_norms_.resize(params_.nlist);
        for (std::size_t c = 0; c < params_.nlist; ++c) centroid_norms_[c] = simd::dot(centroids_.row(c).data(), centroids_.row(c).data(), dim_);
        if (explicit_ids_) {
            lookup_.clear();
            for (std::size_t i = 0; i < external_.size(); ++i)
                if (list_of_[i] != kRemoved) lookup_.emplace(external_[i], static_cast<std::uint32_t>(i));
        }
    }

    bool find_internal(Id id, std::uint32_t& internal) const {
        if (explicit_ids_) {
            const auto it = lookup_.find(id);
            if (it == lookup_.end()) return false;
            internal = it->second;
            return true;
        }
        if (static_cast<std::uint64_t>(id) >= list_of_.size() || list_of_[static_cast<std::size_t>(id)] == kRemoved) return false;
        internal = static_cast<std::uint32_t>(id);
        return true;
    }

    /// Validated, normalised (cosine) and rotated (OPQ) copy of rows.
    DenseMatrix<float> prepare_rows(DenseMatrixView<const float> rows) const { return prepare_rows(rows, rotation_); }
    DenseMatrix<float> prepare_rows(DenseMatrixView<const float> rows, const DenseMatrix<float>& rotation) const {
        validate_dimension(dim_, rows.cols, "vectors");
        for (std::size_t i = 0; i < rows.rows; ++i) validate_finite(std::span<const float>(rows.row(i)), static_cast<long long>(i), "vectors");
        DenseMatrix<float> x(rows);
        if (metric_ == Metric::cosine)
            for (std::size_t i = 0; i < x.rows(); ++i) detail::normalize_in_place(x.row(i));
        if (!rotation.values().empty()) x = apply_rotation(rotation, x.view());
        return x;
    }

    const float* prepare_query(const float* query, Scratch& s) const {
        if (metric_ != Metric::cosine && rotation_.values().empty()) return query;
        s.query.assign(query, query + dim_);
        if (metric_ == Metric::cosine) detail::normalize_in_place(s.query);
        if (!rotation_.values().empty()) {
            s.residual.resize(dim_);
            rotate_vector(rotation_, s.query.data(), s.residual.data());
            std::swap(s.query, s.residual);
        }
        return s.query.data();
    }

    void add_impl(DenseMatrixView<const float> vectors, std::span<const Id> ids) {
        require_trained();
        DenseMatrix<float> x = prepare_rows(vectors);  // validates first: a rejected batch changes nothing
        if (external_.size() + x.rows() >= kRemoved) raise(ErrorKind::invalid_argument, "IvfPqIndex: more than 2^32 - 2 vectors");
        if (!ids.empty()) {
            std::unordered_map<Id, std::uint32_t> fresh;
            for (std::size_t i = 0; i < ids.size(); ++i) {
                if (lookup_.count(ids[i]) || !fresh.emplace(ids[i], 0).second)
                    raise(ErrorKind::invalid_argument, "IvfPqIndex: duplicate id ", static_cast<unsigned long long>(ids[i]), " at row ", i);
            }
        }
        const auto assign = coarse_.assign(x.view());
        DenseMatrix<float> residual(x);
        if (params_.by_residual)
            for (std::size_t i = 0; i < residual.rows(); ++i)
                for (std::size_t j = 0; j < dim_; ++j) residual[i][j] -= centroids_[assign[i]][j];
        const auto codes = pq_.encode(residual.view(), params_.threads);
        const std::size_t m = params_.m, bb = simd::fast_scan_layout::block_bytes(m);
        const std::size_t base = external_.size();
        for (std::size_t i = 0; i < x.rows(); ++i) {
            List& list = lists_[assign[i]];
            const std::size_t pos = list.ids.size();
            if (params_.nbits == 4) {
                if (pos % 32 == 0) list.codes.resize(list.codes.size() + bb, 0);
                std::uint8_t* block = list.codes.data() + (pos / 32) * bb;
                for (std::size_t s = 0; s < m; ++s) simd::fast_scan_layout::set_code(block, pos % 32, s, codes[i * m + s]);
            } else {
                list.codes.insert(list.codes.end(), codes.begin() + i * m, codes.begin() + (i + 1) * m);
            }
            list.ids.push_back(static_cast<std::uint32_t>(base + i));
            list_of_.push_back(assign[i]);
            if (ids.empty()) {
                external_.push_back(static_cast<Id>(base + i));
            } else {
                external_.push_back(ids[i]);
                lookup_.emplace(ids[i], static_cast<std::uint32_t>(base + i));
            }
        }
        if (!ids.empty()) explicit_ids_ = true;
        if (params_.keep_vectors) store_.append(x.view());
        live_ += x.rows();
    }

    void copy_code(List& list, std::size_t from, std::size_t to) {
        const std::size_t m = params_.m;
        if (params_.nbits == 4) {
            const std::size_t bb = simd::fast_scan_layout::block_bytes(m);
            for (std::size_t s = 0; s < m; ++s)
                simd::fast_scan_layout::set_code(list.codes.data() + (to / 32) * bb, to % 32, s,
                                            simd::fast_scan_layout::get_code(list.codes.data() + (from / 32) * bb, from % 32, s));
        } else {
            std::copy_n(list.codes.data() + from * m, m, list.codes.data() + to * m);
        }
    }

    float exact_score(const float* q, std::uint32_t internal, float qn) const noexcept {
        if (metric_ == Metric::l2) return -store_.l2_squared(q, internal, qn);
        return store_.dot(q, internal);
    }

    /// Unpacked code of entry `pos` of a list.
    void entry_code(const List& list, std::size_t pos, std::uint8_t* out) const noexcept {
        const std::size_t m = params_.m;
        if (params_.nbits == 4) {
            const std::uint8_t* block = list.codes.data() + (pos / 32) * simd::fast_scan_layout::block_bytes(m);
            for (std::size_t s = 0; s < m; ++s) out[s] = simd::fast_scan_layout::get_code(block, pos % 32, s);
        } else {
            std::copy_n(list.codes.data() + pos * m, m, out);
        }
    }

    void search_one(const float* raw_query, std::size_t k, const IvfPqIndexSearchParams& sp, Scratch& s, SearchResults<Id>& out) const {
        k = std::min(k, std::max<std::size_t>(live_, 1));  // k = SIZE_MAX means "every vector"
        const float* q = prepare_query(raw_query, s);
        const bool l2 = metric_ == Metric::l2;
        const std::size_t nlist = params_.nlist, nprobe = std::min(sp.nprobe, nlist), m = params_.m, ksub = pq_.ksub();
        // 1. coarse quantizer: nearest centroids by |c|^2 - 2 q.c
        s.coarse.resize(nlist);
        simd::dot_many(q, centroids_.data(), nlist, dim_, dim_, s.coarse.data());
        s.probes.reset(nprobe);
        for (std::size_t c = 0; c < nlist; ++c) {
            const float sc = 2.0f * s.coarse[c] - centroid_norms_[c];
            if (s.probes.would_enter(sc)) s.probes.push(static_cast<std::uint32_t>(c), sc);
        }
        const auto probes = s.probes.finalize();
        // 2. scan the probed lists, keeping the best `ncand` by PQ distance (lower is better; stored negated)
        const bool rerank = params_.keep_vectors && sp.refine_factor > 0;
        // candidates kept from the scan: k * refine_factor, never more than the index holds (nor overflowing)
        const std::size_t rf = std::max<std::size_t>(sp.refine_factor, 1);
        const std::size_t ncand = std::max(k, rf > live_ / k + 1 ? live_ : k * rf);
        s.candidates.reset(ncand);
        s.lut.resize(m * ksub);
        const bool shared_lut = !l2 || !params_.by_residual;
        if (shared_lut) {
            pq_.compute_lut(q, l2, s.lut.data());
            if (params_.nbits == 4) pq_.quantize_lut(s.lut.data(), s.qlut);
        }
        s.residual.resize(dim_);
        for (const auto& probe : probes) {
            const std::uint32_t l = probe.id;
            const List& list = lists_[l];
            const std::size_t n = list.ids.size();
            if (n == 0) continue;
            float constant = 0.0f;  // list-level term of the distance
            if (!shared_lut) {
                const float* c = centroids_.row(l).data();
                for (std::size_t j = 0; j < dim_; ++j) s.residual[j] = q[j] - c[j];
                pq_.compute_lut(s.residual.data(), true, s.lut.data());
                if (params_.nbits == 4) pq_.quantize_lut(s.lut.data(), s.qlut);
            } else if (params_.by_residual) {
                constant = -s.coarse[l];  // IP: distance = -<q, c> - <q, r>
            }
            if (params_.nbits == 4) scan_fast(list, constant, s);
            else scan_adc(list, constant, s);
        }
        // 3. re-rank
        const auto cands = s.candidates.finalize();
        s.final_top.reset(k);
        if (rerank) {
            const float qn = l2 && store_.is_int8() ? simd::dot(q, q, dim_) : 0.0f;
            constexpr std::size_t kAhead = 12;  // random reads: keep several vectors in flight
            for (std::size_t i = 0; i < std::min(kAhead, cands.size()); ++i) store_.prefetch(cands[i].id);
            for (std::size_t i = 0; i < cands.size(); ++i) {
                if (i + kAhead < cands.size()) store_.prefetch(cands[i + kAhead].id);
                const std::uint32_t internal = cands[i].id;
                s.final_top.push(internal, exact_score(q, internal, qn));
            }
        } else if (params_.nbits == 4) {
            // re-score the quantized-LUT candidates with float LUTs
            std::uint8_t code[256];
            for (const auto& c : cands) {
                const std::uint32_t internal = c.id;
                const std::uint32_t l = list_of_[internal];
                const List& list = lists_[l];
                const std::size_t pos = static_cast<std::size_t>(std::find(list.ids.begin(), list.ids.end(), internal) - list.ids.begin());
                entry_code(list, pos, code);
                float d = 0.0f;
                if (!shared_lut) {
                    const float* cc = centroids_.row(l).data();
                    for (std::size_t j = 0; j < dim_; ++j) s.residual[j] = q[j] - cc[j];
                    pq_.compute_lut(s.residual.data(), true, s.lut.data());
                } else if (params_.by_residual) {
                    d = -s.coarse[l];
                }
                d += pq_.adc(s.lut.data(), code);
                s.final_top.push(internal, -d);
            }
        } else {
            for (const auto& c : cands) s.final_top.push(c.id, c.score);
        }
        const auto best = s.final_top.finalize();
        out.resize(best.size());
        for (std::size_t i = 0; i < best.size(); ++i) out[i] = {external_[best[i].id], best[i].score};
    }

    void scan_fast(const List& list, float constant, Scratch& s) const {
        const std::size_t n = list.ids.size(), nb = (n + 31) / 32;
        s.sums.resize(nb * 32);
        s.masks.resize(nb);
        const float base = constant + s.qlut.bias, scale = s.qlut.scale;
        // u16 bar from the current candidate threshold (conservative: rounds up; exact check on push)
        std::uint16_t thr = 0xFFFF;
        if (s.candidates.full()) {
            const float t = (-s.candidates.threshold() - base) * scale;
            if (t < 0.0f) return;
            thr = t >= 65535.0f ? std::uint16_t{0xFFFF} : static_cast<std::uint16_t>(std::ceil(t));
        }
        pq_.fast_scan(list.codes.data(), nb, s.qlut, thr, s.sums.data(), s.masks.data());
        const float inv = 1.0f / scale;
        for (std::size_t b = 0; b < nb; ++b) {
            std::uint32_t mask = s.masks[b];
            if (b + 1 == nb && n % 32) mask &= (1u << (n % 32)) - 1u;
            while (mask) {
                const std::size_t j = static_cast<std::size_t>(__builtin_ctz(mask));
                mask &= mask - 1;
                const std::size_t pos = b * 32 + j;
                const float sc = -(base + static_cast<float>(s.sums[pos]) * inv);
                if (s.candidates.would_enter(sc)) s.candidates.push(list.ids[pos], sc);
            }
        }
    }

    void scan_adc(const List& list, float constant, Scratch& s) const {
        const std::size_t n = list.ids.size(), m = params_.m;
        const float* lut = s.lut.data();
        const std::uint8_t* codes = list.codes.data();
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint8_t* c = codes + i * m;
            float d0 = 0.0f, d1 = 0.0f, d2 = 0.0f, d3 = 0.0f;
            std::size_t sub = 0;
            for (; sub + 4 <= m; sub += 4) {
                d0 += lut[sub * 256 + c[sub]];
                d1 += lut[(sub + 1) * 256 + c[sub + 1]];
                d2 += lut[(sub + 2) * 256 + c[sub + 2]];
                d3 += lut[(sub + 3) * 256 + c[sub + 3]];
            }
            for (; sub < m; ++sub) d0 += lut[sub * 256 + c[sub]];
            const float sc = -(constant + ((d0 + d1) + (d2 + d3)));
            if (s.candidates.would_enter(sc)) s.candidates.push(list.ids[i], sc);
        }
    }

    std::size_t dim_ = 0;
    Metric metric_ = Metric::inner_product;
    IvfPqIndexBuildParams params_;
    ProductQuantizer pq_;
    KMeans coarse_;
    DenseMatrix<float> centroids_;
    std::vector<float> centroid_norms_;
    DenseMatrix<float> rotation_;  // empty unless OPQ
    std::vector<List> lists_;
    VectorStore store_;
    std::vector<Id> external_;             // internal -> external id
    std::vector<std::uint32_t> list_of_;   // internal -> list (kRemoved when removed)
    std::unordered_map<Id, std::uint32_t> lookup_;  // external -> internal (explicit ids only)
    bool explicit_ids_ = false;
    std::size_t live_ = 0;
};

}  // namespace sparsedense
