// sparsedense/dense/ivf_pq_index.hpp
//
// IvfPqIndex: inverted file with product-quantized residuals ("IVFADC", Jégou, Douze & Schmid, "Product quantization
// for nearest neighbor search", TPAMI 2011), with 4-bit fast-scan inside the lists (André, Kermarrec & Le Scouarnec,
// VLDB 2015, as in FAISS and ScaNN) and exact re-ranking. This header is the orchestration; the parts are FAISS's:
//   * CoarseQuantizer (coarse_quantizer.hpp): nlist k-means centroids; one assignment rule used by add (a vector
//     goes to its nearest cell) and by search (a query probes its nprobe nearest cells).
//   * ProductQuantizer (product_quantizer.hpp): codes of the residual x - c (by_residual) or of x itself.
//   * InvertedLists (inverted_lists.hpp): per-list codes (fast-scan blocks of 32 for nbits = 4) and internal ids,
//     an id-to-position map (O(1) code lookup and removal), zero-copy after load, copy on first mutation.
//   * PqScanner (pq_scanner.hpp): LUTs per query / per list and the fast-scan / ADC scans of a list.
//   * ivf_pq_index_file.hpp: the file format; load maps the file without copying lists, ids and centroids.
// Search: probe, scan the probed lists keeping the best k * refine_factor candidates by PQ distance, then re-rank them
// exactly against the kept vectors (VectorStore: f32, f16, bf16 or int8; keep_vectors = false re-scores 4-bit
// candidates with float LUTs). With nprobe = nlist and a refine_factor that covers every vector the result is the
// exact top-k.
// Filtered search (core/id_filter.hpp; the filter sees external ids): the filter is tested before a candidate enters
// the PQ heap, so re-ranking only spends work on accepted vectors. When the filter accepts at most
// exact_scan_fraction of the vectors, the accepted ones are scored exactly instead (the result is then the brute-force
// top-k over them; by decoded PQ codes without kept vectors), as Qdrant switches plans on the filter's cardinality.
// prepare(query) validates, normalizes and rotates a query once; the PreparedQuery scores ids in O(d) (FAISS's
// DistanceComputer). External ids are u32 or u64; add after training, remove by id; search from many threads.
// An optional rotation (train_opq() of opq.hpp) is applied to every vector and query before the coarse quantizer.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "sparsedense/core/progress.hpp"
#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/core/id_filter.hpp"
#include "sparsedense/core/parallel.hpp"
#include "sparsedense/core/search_result.hpp"
#include "sparsedense/core/top_k_collector.hpp"
#include "sparsedense/core/validation.hpp"
#include "sparsedense/dense/coarse_quantizer.hpp"
#include "sparsedense/dense/inverted_lists.hpp"
#include "sparsedense/dense/ivf_pq_index_file.hpp"
#include "sparsedense/dense/kmeans.hpp"
#include "sparsedense/dense/metric.hpp"
#include "sparsedense/dense/pq_scanner.hpp"
#include "sparsedense/dense/product_quantizer.hpp"
#include "sparsedense/dense/rotation.hpp"
#include "sparsedense/dense/vector_store.hpp"
#include "sparsedense/simd/dense_kernels.hpp"

namespace sparsedense {

struct IvfPqIndexBuildParams {
    std::size_t nlist = 1024;                          ///< coarse clusters (lists)
    std::size_t m = 32;                                ///< PQ sub-quantizers
    std::size_t nbits = 4;                             ///< 4 = fast-scan, 8 = float-LUT ADC
    bool by_residual = true;                           ///< encode x - centroid (better codes) or x itself
    bool keep_vectors = true;                          ///< keep vectors for exact re-ranking and exact prepared scores
    VectorEncoding refine_encoding = VectorEncoding::f16;  ///< precision of the kept vectors
    std::size_t coarse_iterations = 10;                ///< k-means iterations of the coarse quantizer
    std::size_t coarse_points_per_centroid = 64;       ///< coarse training sample = nlist * this
    std::size_t pq_iterations = 20;                    ///< k-means iterations per PQ sub-space
    std::size_t pq_training_points = 65536;
    std::uint64_t seed = 2024;
    std::size_t threads = 0;                           ///< threads for training and adding (0 = all)
    ProgressCallback progress{};                       ///< build progress (core/progress.hpp); empty = silent
};

struct IvfPqIndexSearchParams {
    std::size_t nprobe = 16;         ///< lists scanned per query
    std::size_t refine_factor = 4;   ///< re-rank the best k * refine_factor PQ candidates (0 = no exact re-rank)
    /// A filter accepting at most this fraction of the vectors is answered by an exact scan of the accepted ids
    /// (measured on glove-100 and bge-768: docs/dense.md, "Filtered search").
    double exact_scan_fraction = 0.01;
};

template <class Id = std::uint32_t>
class IvfPqIndex {
    static_assert(std::is_same_v<Id, std::uint32_t> || std::is_same_v<Id, std::uint64_t>, "IvfPqIndex ids are u32 or u64");

public:
    using id_type = Id;
    using query_type = std::span<const float>;
    using batch_type = DenseMatrixView<const float>;
    using build_params_type = IvfPqIndexBuildParams;
    using search_params_type = IvfPqIndexSearchParams;
    using result_type = SearchResult<Id, float>;
    static constexpr std::uint32_t kRemoved = InvertedLists::kRemoved;
    static constexpr std::uint32_t kFormatVersion = ivf_pq_file::kVersion;

    /// A query validated, normalized (cosine) and rotated (OPQ) once. scorer(id) is the exact score of id against
    /// the kept vector (the value search() re-ranks with), or the score of its decoded PQ code (centroid + residual)
    /// when the index keeps no vectors. Owns its buffers: several live at once stay correct; one object is not for
    /// concurrent calls. Valid while the index lives and is not modified.
    class PreparedQuery {
    public:
        [[nodiscard]] float operator()(Id id) const {
            std::uint32_t internal = 0;
            if (!index_->find_internal(id, internal))
                raise(ErrorKind::out_of_range, "IvfPqIndex: unknown id ", static_cast<unsigned long long>(id));
            return index_->score_internal(q_.prepared(), internal, code_, decoded_);
        }

    private:
        friend class IvfPqIndex;
        const IvfPqIndex* index_ = nullptr;
        VectorStore::OwnedQuery q_;  // as the kept vectors score it (int8/int4 codes made once), with |q|^2
        mutable std::vector<std::uint8_t> code_;
        mutable std::vector<float> decoded_;
    };

    IvfPqIndex() = default;
    IvfPqIndex(std::size_t dimension, Metric metric, const IvfPqIndexBuildParams& params = {})
        : dim_(dimension), metric_(metric), params_(params), pq_(dimension, params.m, params.nbits) {
        if (params.nlist == 0) raise(ErrorKind::invalid_argument, "IvfPqIndex: nlist = 0 must be > 0");
        if (params.keep_vectors) store_ = VectorStore(dimension, params.refine_encoding);
    }

    /// Construct, train on `data` and add `data` (ids 0..rows-1): the one-call form, like the sparse indexes' build.
    [[nodiscard]] static IvfPqIndex build(DenseMatrixView<const float> data, Metric metric, const IvfPqIndexBuildParams& params = {}) {
        IvfPqIndex index(data.cols, metric, params);
        index.train(data);
        index.add(data);
        index.params_.progress = {};  // the caller's callback is not kept past build()
        return index;
    }

    [[nodiscard]] std::size_t dimension() const noexcept { return dim_; }
    [[nodiscard]] Metric metric() const noexcept { return metric_; }
    [[nodiscard]] const IvfPqIndexBuildParams& params() const noexcept { return params_; }
    [[nodiscard]] std::size_t nlist() const noexcept { return params_.nlist; }
    [[nodiscard]] bool is_trained() const noexcept { return pq_.trained(); }
    [[nodiscard]] std::size_t size() const noexcept { return lists_.live(); }
    [[nodiscard]] const ProductQuantizer& pq() const noexcept { return pq_; }
    [[nodiscard]] const CoarseQuantizer& coarse_quantizer() const noexcept { return coarse_; }
    [[nodiscard]] const InvertedLists& inverted_lists() const noexcept { return lists_; }
    [[nodiscard]] const DenseMatrix<float>& rotation() const noexcept { return rotation_; }
    [[nodiscard]] const VectorStore& store() const noexcept { return store_; }
    [[nodiscard]] std::span<const Id> external_ids() const noexcept { return external_.span(); }
    [[nodiscard]] bool explicit_ids() const noexcept { return explicit_ids_; }
    [[nodiscard]] bool keeps_vectors() const noexcept { return params_.keep_vectors; }
    /// Number of vectors in list l.
    [[nodiscard]] std::size_t list_size(std::size_t l) const noexcept { return lists_.list_size(l); }

    /// Bytes per indexed vector: PQ code + internal id + kept vector (coarse centroids and codebooks excluded).
    [[nodiscard]] double bytes_per_vector() const noexcept {
        const double code = params_.nbits == 4 ? params_.m / 2.0 : static_cast<double>(params_.m);
        return code + 4.0 + (params_.keep_vectors ? static_cast<double>(store_.bytes_per_vector()) : 0.0) +
               (explicit_ids_ ? sizeof(Id) : 0.0);
    }
    /// Heap bytes of the index (a loaded index counts only what it copied or computed: the rest is mapped).
    [[nodiscard]] std::size_t memory_bytes() const noexcept {
        return coarse_.memory_bytes() + (pq_.codebooks_mapped() ? 0 : pq_.codebooks().size() * 4) + store_.memory_bytes() + rotation_.values().size() * 4 +
               lists_.memory_bytes() + (external_.is_mapped() ? 0 : external_.size() * sizeof(Id)) + lookup_.size() * (sizeof(Id) + 4 + 16);
    }

    /// Learns the coarse quantizer and the PQ codebooks from `data` (>= nlist rows). With a `rotation` (d x d,
    /// orthonormal rows, e.g. from train_opq() in opq.hpp, as FAISS's OPQMatrix pre-transform), every vector and
    /// query is rotated before the coarse quantizer and PQ; scores are unchanged because a rotation preserves them.
    /// Everything is trained into locals and committed at the end: bad data leaves the index as it was.
    void train(DenseMatrixView<const float> data, DenseMatrix<float> rotation = {}) {
        require_configured();
        if (lists_.entries() != 0) raise(ErrorKind::invalid_argument, "IvfPqIndex: train() on an index that already holds vectors (build a new index)");
        validate_dimension(dim_, data.cols, "training vectors");
        const std::size_t min_rows = std::max(params_.nlist, pq_.ksub());
        if (data.rows < min_rows)
            raise(ErrorKind::invalid_argument, "IvfPqIndex::train: ", data.rows, " training vectors, need at least ", min_rows,
                  " (nlist = ", params_.nlist, " coarse centroids and ", pq_.ksub(), " PQ centroids per sub-space for nbits = ", params_.nbits, ")");
        if (!rotation.values().empty()) validate_rotation(rotation, dim_, "IvfPqIndex::train");
        const DenseMatrix<float> x = prepare_rows(data, rotation);
        KMeansParams kp;
        kp.k = params_.nlist;
        kp.iterations = params_.coarse_iterations;
        kp.max_points_per_centroid = params_.coarse_points_per_centroid;
        kp.seed = params_.seed;
        kp.threads = params_.threads;
        kp.progress = params_.progress;
        KMeans km(kp);
        km.train(x.view());
        CoarseQuantizer coarse(km.centroids());
        ProductQuantizer pq = train_pq(x, coarse);
        rotation_ = std::move(rotation);
        coarse_ = std::move(coarse);
        pq_ = std::move(pq);
        lists_ = InvertedLists(params_.nlist, params_.m, params_.nbits);
    }

    /// Adds vectors with ids entries, entries + 1, ... (the internal positions, counting removed ones).
    void add(DenseMatrixView<const float> vectors) {
        if (explicit_ids_) raise(ErrorKind::invalid_argument, "IvfPqIndex: this index uses explicit ids; pass ids to add()");
        add_impl(vectors, {});
    }
    /// Adds vectors with caller-chosen ids (must be new and unique).
    void add(DenseMatrixView<const float> vectors, std::span<const Id> ids) {
        if (ids.size() != vectors.rows) raise(ErrorKind::dimension_mismatch, "IvfPqIndex: ", vectors.rows, " vectors but ", ids.size(), " ids");
        if (!explicit_ids_ && external_.size() != 0) raise(ErrorKind::invalid_argument, "IvfPqIndex: this index uses automatic ids; call add() without ids");
        add_impl(vectors, ids);
    }

    /// Removes the vectors with these ids (O(1) each); unknown ids are ignored. Returns how many were removed.
    std::size_t remove(std::span<const Id> ids) {
        std::size_t removed = 0;
        for (const Id id : ids) {
            std::uint32_t internal = 0;
            if (!find_internal(id, internal)) continue;
            lists_.remove(internal);
            if (explicit_ids_) lookup_.erase(id);
            ++removed;
        }
        return removed;
    }

    /// Approximate top-k among the vectors the filter accepts (exact re-ranking of k * refine_factor candidates when
    /// vectors are kept; exact scan of the accepted ids when the filter is selective, see the top of this header).
    [[nodiscard]] SearchResults<Id> search(const query_type& query, std::size_t k, const IvfPqIndexSearchParams& sp = {},
                                           const IdFilter& filter = {}) const {
        SearchResults<Id> out;
        search_into(query, k, out, sp, filter);
        return out;
    }

    /// search() into `out` (no allocation once the thread's scratch and `out` are warm).
    void search_into(const query_type& query, std::size_t k, SearchResults<Id>& out, const IvfPqIndexSearchParams& sp = {},
                     const IdFilter& filter = {}) const {
        require_trained();
        validate_k(k, "IvfPqIndex::search");
        validate_dimension(dim_, query.size(), "IvfPqIndex::search: query");
        validate_finite(query, -1, "query");
        validate_search_params(sp);
        Scratch& s = scratch();
        search_one(prepare_query(query.data(), s), k, sp, filter, s, out);
    }

    /// search() for every row of `queries`, split over threads (0 = all hardware threads).
    [[nodiscard]] std::vector<SearchResults<Id>> search_batch(const batch_type& queries, std::size_t k, const IvfPqIndexSearchParams& sp = {},
                                                              std::size_t threads = 0, const IdFilter& filter = {}) const {
        require_trained();
        validate_k(k, "IvfPqIndex::search_batch");
        validate_dimension(dim_, queries.cols, "IvfPqIndex::search_batch: queries");
        for (std::size_t i = 0; i < queries.rows; ++i) validate_finite(std::span<const float>(queries.row(i)), static_cast<long long>(i), "queries");
        validate_search_params(sp);
        std::vector<SearchResults<Id>> out(queries.rows);
        detail::parallel_for(queries.rows, threads, [&](std::size_t b, std::size_t e, std::size_t) {
            Scratch& s = scratch();
            for (std::size_t i = b; i < e; ++i) search_one(prepare_query(queries.row_data(i), s), k, sp, filter, s, out[i]);
        });
        return out;
    }

    /// The query validated, normalized and rotated once, for scoring many ids (see PreparedQuery).
    [[nodiscard]] PreparedQuery prepare(const query_type& query) const {
        require_trained();
        validate_dimension(dim_, query.size(), "IvfPqIndex::prepare: query");
        validate_finite(query, -1, "query");
        PreparedQuery p;
        p.index_ = this;
        Scratch& s = scratch();
        const float* q = prepare_query(query.data(), s);
        p.q_ = VectorStore::OwnedQuery({q, dim_});
        p.q_.prepare(store_, metric_ == Metric::l2);
        return p;
    }

    /// Score of `id` for `query` (exact against the kept vector; by the decoded code without kept vectors). Throws
    /// Error(out_of_range) for unknown ids. To score many ids, prepare() once.
    [[nodiscard]] float score(const query_type& query, Id id) const { return prepare(query)(id); }

    /// Writes the index atomically (ivf_pq_index_file.hpp).
    void save(const std::string& path) const {
        require_trained();
        ivf_pq_file::Meta meta{};
        meta.dimension = dim_;
        meta.metric = static_cast<std::uint32_t>(metric_);
        meta.id_bytes = sizeof(Id);
        meta.nlist = params_.nlist;
        meta.m = params_.m;
        meta.nbits = static_cast<std::uint32_t>(params_.nbits);
        meta.by_residual = params_.by_residual;
        meta.keep_vectors = params_.keep_vectors;
        meta.refine_encoding = static_cast<std::uint32_t>(params_.refine_encoding);
        meta.opq = !rotation_.values().empty();
        meta.explicit_ids = explicit_ids_;
        meta.entries = lists_.entries();
        ivf_pq_file::write<Id>(path, meta, coarse_.centroids().span(), rotation_.values(), pq_.codebooks(), lists_,
                               params_.keep_vectors ? &store_ : nullptr, external_.span());
    }

    /// Maps and validates a file written by save(); lists, ids, centroids and codebooks stay in the mapping (zero copy).
    [[nodiscard]] static IvfPqIndex load(const std::string& path) {
        auto c = ivf_pq_file::read<Id>(path);
        const auto& meta = c.meta;
        IvfPqIndexBuildParams p;
        p.nlist = meta.nlist;
        p.m = meta.m;
        p.nbits = meta.nbits;
        p.by_residual = meta.by_residual != 0;
        p.keep_vectors = meta.keep_vectors != 0;
        p.refine_encoding = static_cast<VectorEncoding>(meta.refine_encoding);
        IvfPqIndex ix(meta.dimension, static_cast<Metric>(meta.metric), p);
        ix.pq_.set_codebooks(std::move(c.codebooks));
        ix.coarse_ = CoarseQuantizer(std::move(c.centroids), meta.dimension);
        ix.rotation_ = std::move(c.rotation);
        ix.lists_ = std::move(c.lists);
        if (p.keep_vectors) ix.store_ = std::move(c.store);
        ix.external_ = detail::CowArray<Id>(std::move(c.external));
        ix.explicit_ids_ = meta.explicit_ids != 0;
        if (!ix.explicit_ids_) {  // automatic ids: the table must be the identity, or search and score() disagree
            const auto ext = ix.external_.span();
            for (std::size_t i = 0; i < ext.size(); ++i)
                if (ext[i] != static_cast<Id>(i)) raise(ErrorKind::corrupt_file, "IvfPqIndex: '", path, "': automatic id ", i, " maps to ", ext[i]);
        } else {
            const auto ext = ix.external_.span();
            for (std::size_t i = 0; i < ext.size(); ++i)
                if (ix.lists_.contains(static_cast<std::uint32_t>(i)) && !ix.lookup_.emplace(ext[i], static_cast<std::uint32_t>(i)).second)
                    raise(ErrorKind::corrupt_file, "IvfPqIndex: '", path, "': duplicate external ids");
        }
        return ix;
    }

private:
    struct Scratch {
        std::vector<float> query, rotated;
        CoarseQuantizer::Scratch coarse;
        PqScanner scanner;
        CandidateBuffer candidates;
        TopKCollector<std::uint32_t, float> final_top{1};
        std::vector<std::uint8_t> code;
        std::vector<float> decoded;
        VectorStore::PreparedQuery prepared;  // the query as the kept vectors score it
    };
    static Scratch& scratch() {
        static thread_local Scratch s;
        return s;
    }

    /// The filter seen through internal ids (it tests the external id).
    template <class Filter>
    struct AcceptExternal {
        static constexpr bool accepts_all = Filter::accepts_all;
        Filter filter;
        const Id* external;
        bool operator()(std::uint32_t internal) const { return filter(static_cast<std::uint64_t>(external[internal])); }
    };

    void require_configured() const {
        if (dim_ == 0)
            raise(ErrorKind::invalid_argument, "IvfPqIndex: this index was default-constructed (dimension 0); construct it with "
                                               "IvfPqIndex(dimension, metric, params) or load() one");
    }
    void require_trained() const {
        require_configured();
        if (!is_trained()) raise(ErrorKind::invalid_argument, "IvfPqIndex: index is not trained (call train() first)");
    }
    static void validate_search_params(const IvfPqIndexSearchParams& sp) {
        if (sp.nprobe == 0) raise(ErrorKind::invalid_argument, "IvfPqIndex: nprobe = 0 must be > 0");
        if (!(sp.exact_scan_fraction >= 0.0 && sp.exact_scan_fraction <= 1.0))
            raise(ErrorKind::invalid_argument, "IvfPqIndex: exact_scan_fraction = ", sp.exact_scan_fraction, " must be in [0, 1]");
    }

    bool find_internal(Id id, std::uint32_t& internal) const {
        if (explicit_ids_) {
            const auto it = lookup_.find(id);
            if (it == lookup_.end()) return false;
            internal = it->second;
            return true;
        }
        if (static_cast<std::uint64_t>(id) >= lists_.entries() || !lists_.contains(static_cast<std::uint32_t>(id))) return false;
        internal = static_cast<std::uint32_t>(id);
        return true;
    }

    /// Validated, normalised (cosine) and rotated (OPQ) copy of rows.
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
            s.rotated.resize(dim_);
            rotate_vector(rotation_, s.query.data(), s.rotated.data());
            std::swap(s.query, s.rotated);
        }
        return s.query.data();
    }

    /// PQ codebooks trained on (a sample of) the residuals of x.
    ProductQuantizer train_pq(const DenseMatrix<float>& x, const CoarseQuantizer& coarse) const {
        const std::size_t ns = std::min<std::size_t>(x.rows(), params_.pq_training_points ? params_.pq_training_points : x.rows());
        DenseMatrix<float> sample(ns, dim_);
        for (std::size_t i = 0; i < ns; ++i) std::copy_n(x.row(i * x.rows() / ns).data(), dim_, sample.row(i).data());
        if (params_.by_residual) {
            const auto assign = coarse.assign(sample.view(), params_.threads);
            for (std::size_t i = 0; i < ns; ++i) coarse.residual(sample.row(i).data(), assign[i], sample.row(i).data());
        }
        ProductQuantizerParams pp;
        pp.m = params_.m;
        pp.nbits = params_.nbits;
        pp.iterations = params_.pq_iterations;
        pp.max_training_points = 0;
        pp.seed = params_.seed + 1;
        pp.threads = params_.threads;
        pp.progress = params_.progress;
        ProductQuantizer pq(dim_, params_.m, params_.nbits);
        pq.train(sample.view(), pp);
        return pq;
    }

    void add_impl(DenseMatrixView<const float> vectors, std::span<const Id> ids) {
        require_trained();
        const DenseMatrix<float> x = prepare_rows(vectors, rotation_);  // validates first: a rejected batch changes nothing
        if (lists_.entries() + x.rows() >= kRemoved) raise(ErrorKind::invalid_argument, "IvfPqIndex: more than 2^32 - 2 vectors");
        if (!ids.empty()) {
            std::unordered_map<Id, std::uint32_t> fresh;
            for (std::size_t i = 0; i < ids.size(); ++i)
                if (lookup_.count(ids[i]) || !fresh.emplace(ids[i], 0).second)
                    raise(ErrorKind::invalid_argument, "IvfPqIndex: duplicate id ", static_cast<unsigned long long>(ids[i]), " at row ", i);
        }
        ProgressReporter progress(params_.progress, "add", 3 * x.rows(), 3);  // assign, encode, append: a third each
        const auto assign = coarse_.assign(x.view(), params_.threads);  // the rule search probes with
        progress.advance(x.rows());
        DenseMatrix<float> residual(x);
        if (params_.by_residual)
            for (std::size_t i = 0; i < residual.rows(); ++i) coarse_.residual(x.row(i).data(), assign[i], residual.row(i).data());
        const auto codes = pq_.encode(residual.view(), params_.threads);
        progress.advance(x.rows());
        auto& external = external_.mutate();
        for (std::size_t i = 0; i < x.rows(); ++i) {
            const std::uint32_t internal = lists_.append(assign[i], codes.data() + i * params_.m);
            external.push_back(ids.empty() ? static_cast<Id>(internal) : ids[i]);
            if (!ids.empty()) lookup_.emplace(ids[i], internal);
        }
        if (!ids.empty()) explicit_ids_ = true;
        if (params_.keep_vectors) store_.append(x.view());
        progress.finish();
    }

    /// The score search() ranks with: exact from the kept vectors, or the decoded code (centroid + residual).
    /// `pq`: the query prepared by store_.prepare() (its q serves the decoded path too).
    float score_internal(const VectorStore::PreparedQuery& pq, std::uint32_t internal, std::vector<std::uint8_t>& code,
                         std::vector<float>& decoded) const {
        const bool l2 = metric_ == Metric::l2;
        const float* q = pq.q;
        if (params_.keep_vectors) return l2 ? -store_.score(pq, internal, true) : store_.score(pq, internal, false);
        code.resize(params_.m);
        decoded.resize(dim_);
        lists_.code_of(internal, code.data());
        pq_.decode(code.data(), decoded.data());
        if (params_.by_residual) {
            const float* c = coarse_.centroid(lists_.list_of(internal));
            for (std::size_t j = 0; j < dim_; ++j) decoded[j] += c[j];
        }
        return l2 ? -simd::l2_squared(q, decoded.data(), dim_) : simd::dot(q, decoded.data(), dim_);
    }

    /// Plan choice: does the filter accept at most exact_scan_fraction of the vectors?
    bool exact_plan(const IdFilter& filter, double fraction) const {
        if (filter.accepts_all()) return false;
        if (!explicit_ids_) return use_exact_scan(filter, lists_.entries(), fraction);
        // explicit ids: sample the stored entries' external ids (the id range says nothing)
        const auto ext = external_.span();
        const std::size_t n = ext.size(), samples = std::min<std::size_t>(n, 1024);
        std::size_t hits = 0;
        for (std::size_t s = 0; s < samples; ++s) hits += filter.accepts(static_cast<std::uint64_t>(ext[(n * (2 * s + 1)) / (2 * samples)]));
        return static_cast<double>(hits) <= fraction * static_cast<double>(samples);
    }

    void search_one(const float* q, std::size_t k, const IvfPqIndexSearchParams& sp, const IdFilter& filter, Scratch& s,
                    SearchResults<Id>& out) const {
        k = std::min(k, std::max<std::size_t>(lists_.live(), 1));  // k = SIZE_MAX means "every vector"
        const bool exact = exact_plan(filter, sp.exact_scan_fraction);
        filter.visit([&](auto f) {
            if (exact) exact_scan(q, k, filter, f, s);
            else approximate(q, k, sp, AcceptExternal<decltype(f)>{f, external_.span().data()}, s);
        });
        const auto best = s.final_top.finalize();
        const auto ext = external_.span();
        out.resize(best.size());
        for (std::size_t i = 0; i < best.size(); ++i) out[i] = {ext[best[i].id], best[i].score};
        // equal scores rank by the id reported (the library's rule), not by the internal id the heap kept
        if (explicit_ids_) std::sort(out.begin(), out.end(), RanksBefore{});
    }

    /// The exact plan: every accepted, stored vector scored (score_internal) into s.final_top.
    template <class Filter>
    void exact_scan(const float* q, std::size_t k, const IdFilter& filter, const Filter& f, Scratch& s) const {
        s.final_top.reset(k);
        store_.prepare(q, metric_ == Metric::l2, s.prepared);
        auto offer = [&](std::uint32_t internal) { s.final_top.push(internal, score_internal(s.prepared, internal, s.code, s.decoded)); };
        const std::size_t n = lists_.entries();
        if (!explicit_ids_) {
            filter.for_each_accepted(n, [&](std::uint64_t id) {
                if (lists_.contains(static_cast<std::uint32_t>(id))) offer(static_cast<std::uint32_t>(id));
            });
        } else {
            const auto ext = external_.span();
            for (std::size_t i = 0; i < n; ++i)
                if (lists_.contains(static_cast<std::uint32_t>(i)) && f(static_cast<std::uint64_t>(ext[i]))) offer(static_cast<std::uint32_t>(i));
        }
    }

    /// The IVF plan: probe, scan (filter tested before the heap), re-rank into s.final_top.
    template <class Accept>
    void approximate(const float* q, std::size_t k, const IvfPqIndexSearchParams& sp, const Accept& accept, Scratch& s) const {
        const auto probes = coarse_.probe(q, sp.nprobe, s.coarse);
        const std::size_t live = lists_.live();
        // candidates kept from the scan: k * refine_factor, never more than the index holds (nor overflowing)
        const std::size_t rf = std::max<std::size_t>(sp.refine_factor, 1);
        const std::size_t ncand = std::max(k, rf > live / k + 1 ? live : k * rf);
        s.candidates.reset(ncand);
        s.scanner.set_query(pq_, q, metric_ == Metric::l2, params_.by_residual);
        for (const auto& probe : probes) {
            const auto& list = lists_.list(probe.list);
            if (list.size == 0) continue;
            s.scanner.set_list(coarse_.centroid(probe.list), probe.dot);
            s.scanner.scan(list.codes, list.ids, list.size, s.candidates, accept);
        }
        rerank(q, k, sp, s);
    }

    void rerank(const float* q, std::size_t k, const IvfPqIndexSearchParams& sp, Scratch& s) const {
        const auto cands = s.candidates.finalize();
        s.final_top.reset(k);
        if (params_.keep_vectors && sp.refine_factor > 0) {
            const bool l2 = metric_ == Metric::l2;
            store_.prepare(q, l2, s.prepared);
            constexpr std::size_t kAhead = 12;  // random reads: keep several vectors in flight
            for (std::size_t i = 0; i < std::min(kAhead, cands.size()); ++i) store_.prefetch(cands[i].id);
            for (std::size_t i = 0; i < cands.size(); ++i) {
                if (i + kAhead < cands.size()) store_.prefetch(cands[i + kAhead].id);
                const std::uint32_t internal = cands[i].id;
                s.final_top.push(internal, l2 ? -store_.score(s.prepared, internal, true) : store_.score(s.prepared, internal, false));
            }
        } else if (params_.nbits == 4) {
            // re-score the quantized-LUT candidates with float LUTs (code found through the id-to-position map)
            s.code.resize(params_.m);
            for (const auto& c : cands) {
                const std::uint32_t l = lists_.list_of(c.id);
                lists_.code_of(c.id, s.code.data());
                s.scanner.set_list(coarse_.centroid(l), s.coarse.dots[l], false);
                s.final_top.push(c.id, -s.scanner.code_distance(s.code.data()));
            }
        } else {
            for (const auto& c : cands) s.final_top.push(c.id, c.score);
        }
    }

    std::size_t dim_ = 0;
    Metric metric_ = Metric::inner_product;
    IvfPqIndexBuildParams params_;
    ProductQuantizer pq_;
    CoarseQuantizer coarse_;
    DenseMatrix<float> rotation_;  // empty unless OPQ
    InvertedLists lists_;
    VectorStore store_;
    detail::CowArray<Id> external_;                 // internal -> external id (mapped after load)
    std::unordered_map<Id, std::uint32_t> lookup_;  // external -> internal (explicit ids only)
    bool explicit_ids_ = false;
};

}  // namespace sparsedense
