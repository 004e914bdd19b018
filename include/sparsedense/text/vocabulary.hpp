// sparsedense/text/vocabulary.hpp
//
// Vocabulary: a two-way map between terms (strings) and dense u32 term ids, assigned in order of first sight.
// Term ids are the dimension of the sparse vectors built from text (BM25 impact vectors, query vectors), so a
// vocabulary of V terms gives vectors of dimension V. Lookups by std::string_view do not allocate (heterogeneous
// lookup on an unordered_map with a transparent hash).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sparsedense/core/error.hpp"

namespace sparsedense::text {

class Vocabulary {
public:
    /// The id of `term`, adding it when new.
    std::uint32_t add(std::string_view term) {
        if (const auto it = ids_.find(term); it != ids_.end()) return it->second;
        if (terms_.size() >= 0xFFFFFFFFull) raise(ErrorKind::out_of_range, "vocabulary: more than 2^32 - 1 terms");
        const auto id = static_cast<std::uint32_t>(terms_.size());
        terms_.emplace_back(term);
        ids_.emplace(terms_.back(), id);
        return id;
    }

    /// The id of `term`, or nullopt when unknown.
    [[nodiscard]] std::optional<std::uint32_t> find(std::string_view term) const {
        if (const auto it = ids_.find(term); it != ids_.end()) return it->second;
        return std::nullopt;
    }
    [[nodiscard]] bool contains(std::string_view term) const { return ids_.find(term) != ids_.end(); }

    /// The term with id `id` (throws Error when out of range).
    [[nodiscard]] const std::string& term(std::uint32_t id) const {
        if (id >= terms_.size()) raise(ErrorKind::out_of_range, "vocabulary: term id ", id, " >= size ", terms_.size());
        return terms_[id];
    }

    [[nodiscard]] std::size_t size() const noexcept { return terms_.size(); }
    [[nodiscard]] bool empty() const noexcept { return terms_.empty(); }
    [[nodiscard]] const std::vector<std::string>& terms() const noexcept { return terms_; }

private:
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    std::vector<std::string> terms_;
    std::unordered_map<std::string, std::uint32_t, Hash, std::equal_to<>> ids_;
};

}  // namespace sparsedense::text
