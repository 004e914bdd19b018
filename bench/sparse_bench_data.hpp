// bench/sparse_bench_data.hpp -- a seeded generator of SPLADE-like learned-sparse vectors (no download needed).
//
// Vocabulary of 30,522 terms (BERT word pieces) with Zipfian popularity (exponent ~1, popularity ranks mapped to term
// ids by a fixed random permutation). Documents mix a few latent topics (each topic: a set of ~200 terms drawn from
// a flatter Zipf) with background terms drawn from the global Zipf, giving the skew and the topical co-occurrence
// structure of real SPLADE output: 120-180 non-zeros per document, positive weights in (0, ~3], topic terms heavier
// than background ones. Queries are drawn the same way from one or two topics, 30-60 non-zeros. Deterministic for a
// given seed on every platform (xorshift64*, no std:: distributions).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/core/parallel.hpp"

namespace sparsedense::bench {

struct SpladeLikeSpec {
    std::size_t vocabulary = 30522;
    std::size_t topics = 2000;
    std::size_t terms_per_topic = 200;
    double zipf_exponent = 1.0;        ///< global term popularity
    double topic_zipf_exponent = 0.6;  ///< popularity of the terms a topic draws
    std::uint64_t seed = 2024;
};

class SpladeLikeGenerator {
public:
    explicit SpladeLikeGenerator(SpladeLikeSpec spec = {}) : spec_(spec) {
        Rng rng(spec.seed);
        perm_.resize(spec.vocabulary);
        std::iota(perm_.begin(), perm_.end(), 0u);
        for (std::size_t i = spec.vocabulary; i > 1; --i) std::swap(perm_[i - 1], perm_[rng.below(i)]);
        global_cdf_ = zipf_cdf(spec.vocabulary, spec.zipf_exponent);
        topic_cdf_ = zipf_cdf(spec.vocabulary, spec.topic_zipf_exponent);
        topic_terms_.resize(spec.topics * spec.terms_per_topic);
        for (std::size_t t = 0; t < spec.topics; ++t)
            for (std::size_t j = 0; j < spec.terms_per_topic; ++j) topic_terms_[t * spec.terms_per_topic + j] = perm_[sample(topic_cdf_, rng)];
    }

    /// `rows` vectors with nnz uniform in [min_nnz, max_nnz], generated in parallel (deterministic per row).
    CsrMatrix<float> generate(std::size_t rows, std::size_t min_nnz, std::size_t max_nnz, std::uint64_t stream, std::size_t max_topics,
                              std::size_t threads = 0) const {
        std::vector<std::vector<std::uint32_t>> ids(rows);
        std::vector<std::vector<float>> values(rows);
        detail::parallel_for(rows, threads, 1024, [&](std::size_t b, std::size_t e, std::size_t) {
            std::vector<std::pair<std::uint32_t, float>> terms;
            for (std::size_t r = b; r < e; ++r) {
                Rng rng(spec_.seed ^ (stream * 0x9e3779b97f4a7c15ULL) ^ ((r + 1) * 0xd1b54a32d192ed03ULL));
                const std::size_t target = min_nnz + rng.below(max_nnz - min_nnz + 1);
                const std::size_t ntopics = 1 + rng.below(max_topics);
                std::size_t topic[4];
                for (std::size_t i = 0; i < ntopics; ++i) topic[i] = rng.below(spec_.topics);
                terms.clear();
                std::size_t guard = 0;
                while (terms.size() < target * 2 && guard++ < target * 8) {
                    std::uint32_t id;
                    float w;
                    if (rng.uniform() < 0.45) {  // topic term, heavier
                        const std::size_t t = topic[rng.below(ntopics)];
                        // earlier terms of a topic are more central
                        const std::size_t j = static_cast<std::size_t>(std::pow(rng.uniform(), 2.0) * static_cast<double>(spec_.terms_per_topic));
                        id = topic_terms_[t * spec_.terms_per_topic + std::min(j, spec_.terms_per_topic - 1)];
                        w = static_cast<float>(std::exp(0.9 * rng.normal()) * (1.5 - 1.3 * static_cast<double>(j) / static_cast<double>(spec_.terms_per_topic)));
                    } else {  // background term, light
                        id = perm_[sample(global_cdf_, rng)];
                        w = static_cast<float>(0.02 + 0.3 * std::pow(rng.uniform(), 3.0));
                    }
                    terms.push_back({id, std::min(w, 3.0f)});
                    if (terms.size() >= target * 2) break;
                }
                std::sort(terms.begin(), terms.end(), [](const auto& a, const auto& c) { return a.first < c.first || (a.first == c.first && a.second > c.second); });
                terms.erase(std::unique(terms.begin(), terms.end(), [](const auto& a, const auto& c) { return a.first == c.first; }), terms.end());
                if (terms.size() > target) {  // keep the heaviest `target`, back in id order
                    std::nth_element(terms.begin(), terms.begin() + static_cast<std::ptrdiff_t>(target), terms.end(),
                                     [](const auto& a, const auto& c) { return a.second > c.second || (a.second == c.second && a.first < c.first); });
                    terms.resize(target);
                    std::sort(terms.begin(), terms.end());
                }
                for (const auto& [id, w] : terms) {
                    ids[r].push_back(id);
                    values[r].push_back(std::max(w, 0.01f));
                }
            }
        });
        CsrMatrix<float> m(spec_.vocabulary);
        std::size_t nnz = 0;
        for (const auto& v : ids) nnz += v.size();
        m.reserve(rows, nnz);
        for (std::size_t r = 0; r < rows; ++r) {
            m.push_back({ids[r], values[r]});
            std::vector<std::uint32_t>().swap(ids[r]);
            std::vector<float>().swap(values[r]);
        }
        return m;
    }

    CsrMatrix<float> documents(std::size_t rows, std::size_t threads = 0) const { return generate(rows, 120, 180, 1, 3, threads); }
    CsrMatrix<float> queries(std::size_t rows, std::size_t threads = 0) const { return generate(rows, 30, 60, 2, 1, threads); }

private:
    struct Rng {
        std::uint64_t s;
        explicit Rng(std::uint64_t seed) : s(seed ? seed : 0x2545F4914F6CDD1DULL) {}
        std::uint64_t next() {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            return s * 0x2545F4914F6CDD1DULL;
        }
        double uniform() { return (static_cast<double>(next() >> 11) + 0.5) / 9007199254740992.0; }
        std::size_t below(std::size_t n) { return static_cast<std::size_t>(uniform() * static_cast<double>(n)) % n; }
        double normal() { return std::sqrt(-2.0 * std::log(uniform())) * std::cos(6.283185307179586 * uniform()); }
    };
    static std::vector<double> zipf_cdf(std::size_t n, double s) {
        std::vector<double> cdf(n);
        double acc = 0;
        for (std::size_t r = 0; r < n; ++r) cdf[r] = (acc += 1.0 / std::pow(static_cast<double>(r + 1), s));
        for (auto& c : cdf) c /= acc;
        return cdf;
    }
    static std::size_t sample(const std::vector<double>& cdf, Rng& rng) {
        const double u = rng.uniform();
        return std::min<std::size_t>(cdf.size() - 1, static_cast<std::size_t>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin()));
    }

    SpladeLikeSpec spec_;
    std::vector<std::uint32_t> perm_;
    std::vector<double> global_cdf_, topic_cdf_;
    std::vector<std::uint32_t> topic_terms_;
};

}  // namespace sparsedense::bench
