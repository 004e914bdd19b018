// sparsedense/core/array_store.hpp
//
// ArrayStore: keeps alive the memory behind an index's read-only arrays. An index holds std::span<const T> members
// and one shared ArrayStore; a built index adopts its std::vectors into the store, a loaded one keeps the memory
// map there, so searching code never cares where the bytes live and a loaded index copies nothing. Copies of an
// index share the store (indexes are immutable once built).
#pragma once

#include <memory>
#include <span>
#include <utility>
#include <vector>

namespace sparsedense::detail {

class ArrayStore {
public:
    /// Moves the vector into the store and returns a view of its elements, valid as long as the store lives.
    template <class T>
    std::span<const T> adopt(std::vector<T>&& v) {
        auto holder = std::make_shared<std::vector<T>>(std::move(v));
        std::span<const T> view(holder->data(), holder->size());
        parts_.push_back(std::move(holder));
        return view;
    }
    /// Keeps an arbitrary owner (for example a memory map) alive.
    void keep(std::shared_ptr<const void> owner) { parts_.push_back(std::move(owner)); }

private:
    std::vector<std::shared_ptr<const void>> parts_;
};

}  // namespace sparsedense::detail
