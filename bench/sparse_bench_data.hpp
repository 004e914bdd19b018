// bench/sparse_bench_data.hpp -- a seeded generator of SPLADE-like learned-sparse vectors (no download needed).
//
// Shape calibrated against real SPLADE++ (EnsembleDistil) vectors (shared/data/splade-beir), not just the sizes:
//
// * Vocabulary of 30,522 terms (BERT word pieces); the first 999 ids ([PAD], [unusedN], [UNK], [CLS], ...) are never
//   produced, the others have a Zipfian global popularity (ranks mapped to ids by a fixed random permutation).
// * Latent topics (Zipfian topic popularity). A topic is an ordered list of terms drawn from a flatter Zipf over the
//   popularity ranks, so its terms are mostly mid-frequency and rare words; documents and queries draw a topic's
//   early ("central") terms more often. A document has a main topic, often a secondary one, and background terms from
//   the global Zipf (the frequent word pieces every text activates).
// * Weights come from the rank of a term's salience in its vector, not from its source alone: topic terms are
//   usually salient, background terms rarely. The sorted weight profile follows real SPLADE output,
//   w(r) = w0 * exp(-0.117 * (r / s)^0.87) plus a light tail (0.01..0.05), with w0 ~ 2.3 (p10 1.8, p90 2.9) and a
//   stretch s = (nnz / 60)^0.25, so a 150-term document keeps ~40% of its L1 mass in its ~9 heaviest terms and ~83%
//   in its top 40 (real 60-term vectors: 7.8 and 93%). Documents sharing a heavy term therefore usually share a
//   topic (what lets Seismic-style block summaries stay small), and a query's best documents match several of its
//   heavy terms.
// * Documents: 120-180 non-zeros; queries: 30-60 non-zeros, one topic (sometimes two) and fewer background terms.
//
// Deterministic for a given seed (xorshift64*, no std:: distributions; each row seeded by its index, so the output
// does not depend on the thread count). About 30 us per document per thread (1M documents: ~15 s on 2 free cores).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/core/parallel.hpp"

namespace sparsedense::bench {

struct SpladeLikeSpec {
    std::size_t vocabulary = 30522;
    std::size_t topics = 5000;
    std::size_t terms_per_topic = 200;
    double zipf_exponent = 1.5;                ///< global term popularity, p(rank r) ~ 1 / (r + zipf_offset)^exponent
    double zipf_offset = 200;                  ///< Zipf-Mandelbrot offset: flattens the head (no term is in every vector)
    double topic_zipf_exponent = 1.2;          ///< popularity of the terms topics are made of (same offset; flatter: rarer terms)
    double topic_popularity_exponent = 0.7;    ///< how unevenly topics are used
    double topic_position_exponent = 1.0;      ///< how strongly vectors prefer a topic's central (early) terms
    std::size_t reserved_terms = 999;          ///< ids [0, reserved) never produced (BERT's special and [unused] pieces)
    std::uint64_t seed = 2024;
};

class SpladeLikeGenerator {
public:
    explicit SpladeLikeGenerator(SpladeLikeSpec spec = {}) : spec_(spec) {
        if (spec_.vocabulary == 0) spec_.vocabulary = 1;
        if (spec_.reserved_terms >= spec_.vocabulary) spec_.reserved_terms = 0;
        spec_.topics = std::max<std::size_t>(1, spec_.topics);
        spec_.terms_per_topic = std::max<std::size_t>(1, spec_.terms_per_topic);
        Rng rng(spec_.seed);
        const std::size_t usable = spec_.vocabulary - spec_.reserved_terms;
        perm_.resize(usable);
        std::iota(perm_.begin(), perm_.end(), static_cast<std::uint32_t>(spec_.reserved_terms));
        for (std::size_t i = usable; i > 1; --i) std::swap(perm_[i - 1], perm_[rng.below(i)]);
        global_cdf_ = zipf_cdf(usable, spec_.zipf_exponent, spec_.zipf_offset);
        const auto topic_term_cdf = zipf_cdf(usable, spec_.topic_zipf_exponent, spec_.zipf_offset);
        topic_cdf_ = zipf_cdf(spec_.topics, spec_.topic_popularity_exponent);
        position_cdf_ = zipf_cdf(spec_.terms_per_topic, spec_.topic_position_exponent);
        topic_terms_.resize(spec_.topics * spec_.terms_per_topic);
        for (std::size_t t = 0; t < spec_.topics; ++t)
            for (std::size_t j = 0; j < spec_.terms_per_topic; ++j)
                topic_terms_[t * spec_.terms_per_topic + j] = static_cast<std::uint32_t>(sample(topic_term_cdf, rng));  // a rank for now
        // specificity of a popularity rank (IDF-like): rare terms are more salient, as in real SPLADE weights
        specificity_.resize(usable);
        for (std::size_t r = 0; r < usable; ++r)
            specificity_[r] = static_cast<float>(0.3 + 0.7 * std::log(static_cast<double>(r) + 2.0) / std::log(static_cast<double>(usable) + 1.0));
        topic_spec_.resize(topic_terms_.size());
        for (std::size_t i = 0; i < topic_terms_.size(); ++i) {
            topic_spec_[i] = specificity_[topic_terms_[i]];
            topic_terms_[i] = perm_[topic_terms_[i]];
        }
    }

    /// `rows` vectors with nnz uniform in [min_nnz, max_nnz], generated in parallel (deterministic per row).
    /// `background` is the expected share of background (global Zipf) candidates; `second_topic` the probability
    /// of a secondary topic.
    CsrMatrix<float> generate(std::size_t rows, std::size_t min_nnz, std::size_t max_nnz, std::uint64_t stream, double background,
                              double second_topic, std::size_t threads = 0) const {
        max_nnz = std::min(std::max(min_nnz, max_nnz), spec_.vocabulary - spec_.reserved_terms);
        min_nnz = std::min(min_nnz, max_nnz);
        // sorted weight profile exp(-0.117 * (r / s)^0.87), s = (n / 60)^0.25, for every n in [min_nnz, max_nnz]
        std::vector<float> profile((max_nnz - min_nnz + 1) * max_nnz);
        for (std::size_t n = min_nnz; n <= max_nnz; ++n) {
            const double stretch = std::pow(static_cast<double>(std::max<std::size_t>(n, 1)) / 60.0, 0.25);
            for (std::size_t i = 0; i < n; ++i)
                profile[(n - min_nnz) * max_nnz + i] = static_cast<float>(std::exp(-0.117 * std::pow(static_cast<double>(i) / stretch, 0.87)));
        }
        std::vector<std::vector<std::uint32_t>> ids(rows);
        std::vector<std::vector<float>> values(rows);
        detail::parallel_for(rows, threads, 1024, [&](std::size_t b, std::size_t e, std::size_t) {
            std::vector<std::pair<float, std::uint32_t>> cand;  // (salience, term)
            std::vector<std::pair<std::uint32_t, float>> terms;
            for (std::size_t r = b; r < e; ++r) {
                Rng rng(spec_.seed ^ (stream * 0x9e3779b97f4a7c15ULL) ^ ((r + 1) * 0xd1b54a32d192ed03ULL));
                rng.next();
                const std::size_t target = min_nnz + rng.below(max_nnz - min_nnz + 1);
                const std::size_t main = sample(topic_cdf_, rng);
                const bool two = rng.uniform() < second_topic;
                const std::size_t other = two ? sample(topic_cdf_, rng) : main;
                cand.clear();
                // Candidates with a salience key; the `target` most salient distinct terms are kept and weighted by
                // salience rank. Topic terms: salience ~ lognormal around 1 (central terms slightly more), the
                // secondary topic a bit less; background terms: mostly low, a few moderately salient.
                const std::size_t draws = target + target / 4;
                for (std::size_t i = 0; i < draws; ++i) {
                    const double u = rng.uniform();
                    if (u < background) {
                        const std::size_t rank = sample(global_cdf_, rng);
                        cand.push_back({static_cast<float>(0.15 * specificity_[rank] * std::exp(0.8 * rng.normal())), perm_[rank]});
                    } else {
                        const bool sec = two && u > background + (1.0 - background) * 0.7;
                        const std::size_t t = sec ? other : main;
                        const std::size_t j = sample(position_cdf_, rng);
                        const double central = 1.0 - 0.4 * static_cast<double>(j) / static_cast<double>(spec_.terms_per_topic);
                        const std::size_t k = t * spec_.terms_per_topic + j;
                        cand.push_back({static_cast<float>((sec ? 0.6 : 1.0) * central * topic_spec_[k] * std::exp(0.7 * rng.normal())), topic_terms_[k]});
                    }
                }
                // distinct terms, keeping each one's highest salience
                std::sort(cand.begin(), cand.end(), [](const auto& x, const auto& y) { return x.second < y.second || (x.second == y.second && x.first > y.first); });
                std::size_t w = 0;
                for (std::size_t i = 0; i < cand.size(); ++i) {
                    if (w > 0 && cand[w - 1].second == cand[i].second) continue;
                    cand[w++] = cand[i];
                }
                cand.resize(w);
                // too few distinct terms: top up with light background terms
                for (std::size_t guard = 0; cand.size() < target && guard < 64 * target; ++guard) {
                    const std::uint32_t id = perm_[sample(global_cdf_, rng)];
                    const float sal = static_cast<float>(0.05 * rng.uniform());
                    bool seen = false;
                    for (const auto& c : cand) seen = seen || c.second == id;
                    if (!seen) cand.push_back({sal, id});
                }
                const std::size_t n = std::min(target, cand.size());
                std::partial_sort(cand.begin(), cand.begin() + static_cast<std::ptrdiff_t>(n), cand.end(),
                                  [](const auto& x, const auto& y) { return x.first > y.first || (x.first == y.first && x.second < y.second); });
                // weights by salience rank
                const double w0 = std::clamp(2.3 * std::exp(0.18 * rng.normal()), 1.0, 3.6);
                const float* prof = profile.data() + (std::max(n, min_nnz) - min_nnz) * max_nnz;
                terms.clear();
                for (std::size_t i = 0; i < n; ++i) {
                    const double head = w0 * static_cast<double>(prof[i]);
                    const double tail = 0.01 + 0.06 * rng.uniform() * rng.uniform();
                    const double v = std::min(head * std::exp(0.08 * rng.normal()) + tail, 3.8);
                    terms.push_back({cand[i].second, static_cast<float>(v)});
                }
                std::sort(terms.begin(), terms.end());
                ids[r].reserve(n);
                values[r].reserve(n);
                for (const auto& [id, v] : terms) {
                    ids[r].push_back(id);
                    values[r].push_back(v);
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

    CsrMatrix<float> documents(std::size_t rows, std::size_t threads = 0) const { return generate(rows, 120, 180, 1, 0.45, 0.6, threads); }
    CsrMatrix<float> queries(std::size_t rows, std::size_t threads = 0) const { return generate(rows, 30, 60, 2, 0.35, 0.3, threads); }

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
        /// approximately standard normal: sum of four 16-bit uniforms (Irwin-Hall), cheap and platform-independent
        double normal() {
            const std::uint64_t x = next();
            const double sum = static_cast<double>((x & 0xffff) + ((x >> 16) & 0xffff) + ((x >> 32) & 0xffff) + (x >> 48)) + 2.0;
            return (sum / 65536.0 - 2.0) * 1.7320508075688772;
        }
    };
    /// Inverse-CDF sampling with a guide table (O(1) expected per draw).
    struct Cdf {
        std::vector<double> cdf;
        std::vector<std::uint32_t> guide;  // guide[k] = first index with cdf >= k / guide.size()
    };
    static Cdf zipf_cdf(std::size_t n, double s, double offset = 0.0) {
        Cdf d;
        d.cdf.resize(n);
        double acc = 0;
        for (std::size_t r = 0; r < n; ++r) d.cdf[r] = (acc += 1.0 / std::pow(static_cast<double>(r + 1) + offset, s));
        for (auto& c : d.cdf) c /= acc;
        d.guide.resize(2 * n);
        std::size_t i = 0;
        for (std::size_t k = 0; k < d.guide.size(); ++k) {
            const double u = static_cast<double>(k) / static_cast<double>(d.guide.size());
            while (i + 1 < n && d.cdf[i] < u) ++i;
            d.guide[k] = static_cast<std::uint32_t>(i);
        }
        return d;
    }
    static std::size_t sample(const Cdf& d, Rng& rng) {
        const double u = rng.uniform();
        std::size_t i = d.guide[std::min(d.guide.size() - 1, static_cast<std::size_t>(u * static_cast<double>(d.guide.size())))];
        while (i + 1 < d.cdf.size() && d.cdf[i] < u) ++i;
        return i;
    }

    SpladeLikeSpec spec_;
    std::vector<std::uint32_t> perm_;                   // popularity rank -> term id (ids >= reserved_terms)
    Cdf global_cdf_, topic_cdf_, position_cdf_;
    std::vector<std::uint32_t> topic_terms_;            // topics x terms_per_topic, central terms first
    std::vector<float> specificity_;                    // per popularity rank, in [0.3, 1]
    std::vector<float> topic_spec_;                     // specificity of each topic term
};

}  // namespace sparsedense::bench
