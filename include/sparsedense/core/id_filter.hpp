// sparsedense/core/id_filter.hpp
//
// IdFilter: which documents a search may return, given as a bitset over ids or as a predicate on the id. Every
// index takes one in search(query, k, params, filter); a default-constructed filter lets everything through and
// costs nothing (the indexes branch on it once per query, not per document).
//
// Idea. Filtered vector search has two plans (Qdrant, Weaviate and FAISS's IDSelector all choose between them):
//   * the filter lets through many documents: run the index as usual and test the filter before spending work on a
//     document (before exact scoring, re-ranking or heap insertion);
//   * the filter lets through few: the index would wade through rejected documents, so score the accepted ones
//     exactly instead (a scan of the accepted ids), which is also exact.
// An index picks its plan from estimated_count(): exact for a bitset (a popcount), from the caller's count when it
// gave one, otherwise from a deterministic sample of the predicate over the id range.
//
//   IdBitset allowed(n);  allowed.set(7);           // owning bitset; allowed.view() converts to IdFilter
//   index.search(q, 10, {}, allowed);               // bit i set = id i allowed; ids past the bitset are rejected
//   auto even = [](std::uint64_t id) { return id % 2 == 0; };
//   index.search(q, 10, {}, IdFilter::predicate(even));   // non-owning: `even` must outlive the call
//
// The filter is a view: it refers to the caller's bits or predicate and must not outlive them. Predicates are
// called from the searching thread(s) and must be thread-safe when used with search_batch.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

namespace sparsedense {

/// Non-owning view of a bitset over ids: bit (id % 64) of word (id / 64) set means id is accepted.
struct IdBitsetView {
    std::span<const std::uint64_t> words;

    [[nodiscard]] bool contains(std::uint64_t id) const noexcept {
        const std::uint64_t w = id >> 6;
        return w < words.size() && ((words[static_cast<std::size_t>(w)] >> (id & 63)) & 1u);
    }
    /// Accepted ids below n.
    [[nodiscard]] std::size_t count_below(std::uint64_t n) const noexcept {
        const std::size_t full = static_cast<std::size_t>(std::min<std::uint64_t>(n >> 6, words.size()));
        std::size_t c = 0;
        for (std::size_t i = 0; i < full; ++i) c += static_cast<std::size_t>(std::popcount(words[i]));
        if (full < words.size() && (n & 63))
            c += static_cast<std::size_t>(std::popcount(words[full] & ((std::uint64_t{1} << (n & 63)) - 1)));
        return c;
    }
    /// Calls fn(id) for every accepted id below n, in increasing order.
    template <class Fn>
    void for_each_below(std::uint64_t n, Fn&& fn) const {
        const std::size_t nw = static_cast<std::size_t>(std::min<std::uint64_t>((n + 63) >> 6, words.size()));
        for (std::size_t i = 0; i < nw; ++i) {
            std::uint64_t bits = words[i];
            while (bits) {
                const std::uint64_t id = (std::uint64_t{i} << 6) | static_cast<unsigned>(std::countr_zero(bits));
                if (id >= n) return;
                fn(id);
                bits &= bits - 1;
            }
        }
    }
};

/// An owning bitset over ids 0..size-1 (all clear), to build filters from.
class IdBitset {
public:
    IdBitset() = default;
    explicit IdBitset(std::size_t size) : size_(size), words_((size + 63) / 64, 0) {}
    void set(std::uint64_t id) { words_.at(static_cast<std::size_t>(id >> 6)) |= std::uint64_t{1} << (id & 63); }
    void reset(std::uint64_t id) { words_.at(static_cast<std::size_t>(id >> 6)) &= ~(std::uint64_t{1} << (id & 63)); }
    [[nodiscard]] bool test(std::uint64_t id) const noexcept { return view().contains(id); }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t count() const noexcept { return view().count_below(size_); }
    [[nodiscard]] IdBitsetView view() const noexcept { return {words_}; }

private:
    std::size_t size_ = 0;
    std::vector<std::uint64_t> words_;
};

/// The three concrete forms an IdFilter takes; indexes instantiate their filtered loops on these through visit().
struct AcceptAllIds {
    static constexpr bool accepts_all = true;
    constexpr bool operator()(std::uint64_t) const noexcept { return true; }
};
struct BitsetIds {
    static constexpr bool accepts_all = false;
    IdBitsetView bits;
    bool operator()(std::uint64_t id) const noexcept { return bits.contains(id); }
};
struct PredicateIds {
    static constexpr bool accepts_all = false;
    const void* context;
    bool (*call)(const void*, std::uint64_t);
    bool operator()(std::uint64_t id) const { return call(context, id); }
};

class IdFilter {
public:
    static constexpr std::size_t kUnknownCount = static_cast<std::size_t>(-1);

    /// Accepts every id.
    IdFilter() = default;
    /// Accepts the ids whose bit is set (ids past the bitset are rejected).
    IdFilter(IdBitsetView bits) noexcept : kind_(Kind::bitset), bits_(bits) {}  // NOLINT: implicit on purpose
    IdFilter(const IdBitset& bits) noexcept : IdFilter(bits.view()) {}          // NOLINT: implicit on purpose

    /// Accepts the ids for which pred(id) is true. Non-owning: `pred` must outlive the filter. `expected_count`,
    /// when known, is how many ids the predicate accepts (it saves the index a sample to choose its plan).
    template <class Pred>
    static IdFilter predicate(const Pred& pred, std::size_t expected_count = kUnknownCount) {
        static_assert(std::is_invocable_r_v<bool, const Pred&, std::uint64_t>, "a filter predicate takes an id and returns bool");
        IdFilter f;
        f.kind_ = Kind::predicate;
        f.pred_ = {&pred, [](const void* c, std::uint64_t id) -> bool { return (*static_cast<const Pred*>(c))(id); }};
        f.expected_ = expected_count;
        return f;
    }

    /// True when the filter accepts every id (no filter given).
    [[nodiscard]] bool accepts_all() const noexcept { return kind_ == Kind::none; }
    [[nodiscard]] bool is_bitset() const noexcept { return kind_ == Kind::bitset; }
    [[nodiscard]] bool accepts(std::uint64_t id) const {
        switch (kind_) {
            case Kind::none: return true;
            case Kind::bitset: return bits_.contains(id);
            case Kind::predicate: return pred_(id);
        }
        return false;
    }

    /// fn(AcceptAllIds{}), fn(BitsetIds{...}) or fn(PredicateIds{...}): one instantiation per form, so an index's
    /// unfiltered path carries no test at all.
    template <class Fn>
    decltype(auto) visit(Fn&& fn) const {
        switch (kind_) {
            case Kind::bitset: return fn(BitsetIds{bits_});
            case Kind::predicate: return fn(pred_);
            case Kind::none: break;
        }
        return fn(AcceptAllIds{});
    }

    /// How many of the ids 0..n-1 the filter accepts: exact for no filter and for bitsets, the caller's count when
    /// given, otherwise estimated from `samples` ids spread evenly over the range (deterministic).
    [[nodiscard]] std::size_t estimated_count(std::uint64_t n, std::size_t samples = 1024) const {
        switch (kind_) {
            case Kind::none: return static_cast<std::size_t>(n);
            case Kind::bitset: return bits_.count_below(n);
            case Kind::predicate: break;
        }
        if (expected_ != kUnknownCount) return std::min<std::size_t>(expected_, static_cast<std::size_t>(n));
        if (n <= samples) {
            std::size_t c = 0;
            for (std::uint64_t id = 0; id < n; ++id) c += pred_(id) ? 1 : 0;
            return c;
        }
        std::size_t hits = 0;
        for (std::size_t s = 0; s < samples; ++s) hits += pred_((n * (2 * s + 1)) / (2 * samples)) ? 1 : 0;
        // round up so a rare but present class is not estimated as empty
        return static_cast<std::size_t>((static_cast<double>(hits) * static_cast<double>(n) + samples - 1) / samples);
    }

    /// Calls fn(id) for every accepted id below n, in increasing order (a bitset walks its set bits only).
    template <class Fn>
    void for_each_accepted(std::uint64_t n, Fn&& fn) const {
        switch (kind_) {
            case Kind::bitset: bits_.for_each_below(n, fn); return;
            case Kind::predicate:
                for (std::uint64_t id = 0; id < n; ++id)
                    if (pred_(id)) fn(id);
                return;
            case Kind::none:
                for (std::uint64_t id = 0; id < n; ++id) fn(id);
                return;
        }
    }

private:
    enum class Kind : std::uint8_t { none, bitset, predicate };
    Kind kind_ = Kind::none;
    IdBitsetView bits_{};
    PredicateIds pred_{nullptr, nullptr};
    std::size_t expected_ = kUnknownCount;
};

/// The plan an approximate index runs a filtered query with: its usual traversal testing the filter, or an exact
/// scan of the accepted ids when the filter accepts at most `exact_scan_fraction` of the n documents.
[[nodiscard]] inline bool use_exact_scan(const IdFilter& filter, std::uint64_t n, double exact_scan_fraction) {
    if (filter.accepts_all() || n == 0) return false;
    return static_cast<double>(filter.estimated_count(n)) <= exact_scan_fraction * static_cast<double>(n);
}

}  // namespace sparsedense
