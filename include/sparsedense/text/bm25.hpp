// sparsedense/text/bm25.hpp
//
// Bm25Encoder: BM25 from text without another library. Documents are analyzed (Analyzer: tokenize, stop words,
// Porter), their term frequencies counted, and each document becomes an *impact vector* whose weight for term t is
// the full BM25 term score (Robertson & Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond",
// Foundations and Trends in IR 3(4), 2009):
//
//     w(t, d) = idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * |d| / avgdl))
//     idf(t)  = ln(1 + (N - df + 0.5) / (df + 0.5))          (Lucene's idf: never negative)
//
// with k1 = 0.9, b = 0.4 by default (the Anserini/Pyserini BEIR setting), |d| the number of terms kept after
// analysis. A query becomes a sparse vector of its known terms weighted by how often they occur, so the inner
// product <query, document> equals the BM25 score sum over query terms of w(t, d) -- which is exactly what an
// exact sparse inverted index computes. Unlike Lucene we keep document lengths exact (Lucene stores them in one
// lossy byte); the difference in effectiveness is in the third decimal.
//
// Use: add_document() for every document (ids are 0, 1, ... in order), then document_vectors() once; queries
// with encode_query() (const, thread-safe).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/core/sparse_vector.hpp"
#include "sparsedense/text/analyzer.hpp"
#include "sparsedense/text/vocabulary.hpp"

namespace sparsedense::text {

struct Bm25Params {
    float k1 = 0.9f;  ///< term-frequency saturation (>= 0)
    float b = 0.4f;   ///< length normalization in [0, 1]

    void validate() const {
        if (!(k1 >= 0.0f) || !std::isfinite(k1)) raise(ErrorKind::invalid_argument, "bm25: k1 must be >= 0, got ", k1);
        if (!(b >= 0.0f && b <= 1.0f)) raise(ErrorKind::invalid_argument, "bm25: b must be in [0, 1], got ", b);
    }
};

/// Lucene's BM25 idf, ln(1 + (N - df + 0.5) / (df + 0.5)).
[[nodiscard]] inline double bm25_idf(std::size_t num_documents, std::size_t document_frequency) noexcept {
    const double n = static_cast<double>(num_documents), df = static_cast<double>(document_frequency);
    return std::log(1.0 + (n - df + 0.5) / (df + 0.5));
}

class Bm25Encoder {
public:
    explicit Bm25Encoder(Bm25Params params = {}, Analyzer analyzer = {}) : params_(params), analyzer_(std::move(analyzer)) {
        params_.validate();
    }

    /// Analyzes and counts one document; returns its id (0, 1, ... in order of addition).
    std::uint32_t add_document(std::string_view text) {
        scratch_.clear();
        std::uint32_t length = 0;
        analyzer_.for_each_term(text, [&](std::string_view term) {
            scratch_.push_back(vocabulary_.add(term));
            ++length;
        });
        std::sort(scratch_.begin(), scratch_.end());
        const auto doc = static_cast<std::uint32_t>(lengths_.size());
        for (std::size_t i = 0; i < scratch_.size();) {
            std::size_t j = i;
            while (j < scratch_.size() && scratch_[j] == scratch_[i]) ++j;
            const std::uint32_t term = scratch_[i];
            tf_ids_.push_back(term);
            tf_counts_.push_back(static_cast<std::uint32_t>(j - i));
            if (term >= document_frequency_.size()) document_frequency_.resize(term + 1, 0);
            ++document_frequency_[term];
            i = j;
        }
        tf_offsets_.push_back(tf_ids_.size());
        lengths_.push_back(length);
        total_length_ += length;
        return doc;
    }

    [[nodiscard]] std::size_t num_documents() const noexcept { return lengths_.size(); }
    [[nodiscard]] const Vocabulary& vocabulary() const noexcept { return vocabulary_; }
    [[nodiscard]] const Analyzer& analyzer() const noexcept { return analyzer_; }
    [[nodiscard]] const Bm25Params& params() const noexcept { return params_; }
    [[nodiscard]] std::size_t dimension() const noexcept { return vocabulary_.size(); }
    [[nodiscard]] double average_length() const noexcept {
        return lengths_.empty() ? 0.0 : static_cast<double>(total_length_) / static_cast<double>(lengths_.size());
    }
    [[nodiscard]] std::uint32_t document_length(std::uint32_t doc) const {
        validate_doc(doc);
        return lengths_[doc];
    }
    [[nodiscard]] std::uint32_t document_frequency(std::uint32_t term) const {
        if (term >= vocabulary_.size()) raise(ErrorKind::out_of_range, "bm25: term id ", term, " >= vocabulary size ", vocabulary_.size());
        return document_frequency_[term];
    }
    [[nodiscard]] double idf(std::uint32_t term) const { return bm25_idf(num_documents(), document_frequency(term)); }

    /// BM25 weight of a term occurring `tf` times in a document of `length` terms.
    [[nodiscard]] float term_weight(std::uint32_t term, std::uint32_t tf, std::uint32_t length) const {
        const double k1 = params_.k1, b = params_.b;
        const double avgdl = average_length() > 0.0 ? average_length() : 1.0;
        const double t = static_cast<double>(tf);
        const double norm = k1 * (1.0 - b + b * static_cast<double>(length) / avgdl);
        return static_cast<float>(idf(term) * t * (k1 + 1.0) / (t + norm));
    }

    /// The impact vector of one added document (term ids increasing, BM25 weights).
    [[nodiscard]] SparseVector<float> document_vector(std::uint32_t doc) const {
        validate_doc(doc);
        SparseVector<float> v;
        for (std::size_t i = tf_offsets_[doc]; i < tf_offsets_[doc + 1]; ++i) {
            v.ids.push_back(tf_ids_[i]);
            v.values.push_back(term_weight(tf_ids_[i], tf_counts_[i], lengths_[doc]));
        }
        return v;
    }

    /// Impact vectors of all added documents, one CSR row per document, dimension = vocabulary size.
    [[nodiscard]] CsrMatrix<float> document_vectors() const {
        CsrMatrix<float> m(dimension());
        m.reserve(num_documents(), tf_ids_.size());
        for (std::uint32_t d = 0; d < num_documents(); ++d) {
            for (std::size_t i = tf_offsets_[d]; i < tf_offsets_[d + 1]; ++i) {
                m.indices.push_back(tf_ids_[i]);
                m.values.push_back(term_weight(tf_ids_[i], tf_counts_[i], lengths_[d]));
            }
            m.indptr.push_back(m.indices.size());
        }
        return m;
    }

    /// Query vector: the known terms of `text` (unknown ones cannot match and are dropped), each weighted by its
    /// number of occurrences in the query. <query, document_vector(d)> is then the BM25 score of d.
    [[nodiscard]] SparseVector<float> encode_query(std::string_view text) const {
        std::vector<std::uint32_t> ids;
        analyzer_.for_each_term(text, [&](std::string_view term) {
            if (const auto id = vocabulary_.find(term)) ids.push_back(*id);
        });
        std::sort(ids.begin(), ids.end());
        SparseVector<float> q;
        for (std::size_t i = 0; i < ids.size();) {
            std::size_t j = i;
            while (j < ids.size() && ids[j] == ids[i]) ++j;
            q.ids.push_back(ids[i]);
            q.values.push_back(static_cast<float>(j - i));
            i = j;
        }
        return q;
    }

private:
    void validate_doc(std::uint32_t doc) const {
        if (doc >= num_documents()) raise(ErrorKind::out_of_range, "bm25: document ", doc, " >= number of documents ", num_documents());
    }

    Bm25Params params_;
    Analyzer analyzer_;
    Vocabulary vocabulary_;
    std::vector<std::uint32_t> scratch_;
    std::vector<std::uint64_t> tf_offsets_{0};
    std::vector<std::uint32_t> tf_ids_;
    std::vector<std::uint32_t> tf_counts_;
    std::vector<std::uint32_t> document_frequency_;
    std::vector<std::uint32_t> lengths_;
    std::uint64_t total_length_ = 0;
};

}  // namespace sparsedense::text
