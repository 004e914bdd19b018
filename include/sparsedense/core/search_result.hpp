// sparsedense/core/search_result.hpp
//
// SearchResult: one (id, score) hit. Throughout the library a larger score is better: inner product and cosine
// report the similarity, squared L2 reports the *negated* squared distance, so every index, fusion method and
// metric sorts the same way. Ties are broken by the smaller id, which makes every exact search deterministic.
#pragma once

#include <cstdint>
#include <vector>

namespace sparsedense {

template <class Id = std::uint32_t, class Score = float>
struct SearchResult {
    using id_type = Id;
    using score_type = Score;
    Id id{};
    Score score{};

    friend bool operator==(const SearchResult&, const SearchResult&) = default;
};

/// True when a ranks strictly before b: higher score first, then smaller id.
template <class Id, class Score>
[[nodiscard]] constexpr bool ranks_before(const SearchResult<Id, Score>& a, const SearchResult<Id, Score>& b) noexcept {
    return a.score > b.score || (a.score == b.score && a.id < b.id);
}

/// Comparator object form of ranks_before, for std::sort and friends.
struct RanksBefore {
    template <class Id, class Score>
    constexpr bool operator()(const SearchResult<Id, Score>& a, const SearchResult<Id, Score>& b) const noexcept {
        return ranks_before(a, b);
    }
};

template <class Id = std::uint32_t, class Score = float>
using SearchResults = std::vector<SearchResult<Id, Score>>;

}  // namespace sparsedense
