// hnswlib_peer.hpp: hnswlib (Debian's header-only libhnswlib-dev) as a same-run peer of the benchmarks
// (hnsw_bench, dense_bench --peer hnswlib). Compiled only when CMake found the header (SPARSEDENSE_HAVE_HNSWLIB),
// into the bench program with the same flags as our code: a benchmark-only optional dependency, never one of the
// library's.
#pragma once

#if defined(SPARSEDENSE_HAVE_HNSWLIB)
#include <hnswlib/hnswlib.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/search_result.hpp"
#include "sparsedense/dense/metric.hpp"

namespace sparsedense::bench {

/// hnswlib 0.6.2 on the same rows (cosine runs as inner product on normalised rows and queries), built on `threads`
/// threads with addPoint (thread-safe) as its Python binding does; `cached` (optional) is a file its index is saved
/// to after the build, or loaded from when it exists.
struct HnswlibPeer {
    std::unique_ptr<hnswlib::SpaceInterface<float>> space;
    std::unique_ptr<hnswlib::HierarchicalNSW<float>> index;

    bool cosine = false;
    std::vector<float> qn;

    HnswlibPeer(DenseMatrixView<const float> rows, Metric metric, std::size_t m, std::size_t efc, std::size_t threads, const std::string& cached = "")
        : cosine(metric == Metric::cosine) {
        if (metric == Metric::l2) space = std::make_unique<hnswlib::L2Space>(rows.cols);
        else space = std::make_unique<hnswlib::InnerProductSpace>(rows.cols);
        if (!cached.empty() && std::filesystem::exists(cached)) {
            index = std::make_unique<hnswlib::HierarchicalNSW<float>>(space.get(), cached);
            return;
        }
        index = std::make_unique<hnswlib::HierarchicalNSW<float>>(space.get(), rows.rows, m, efc, 100);
        auto add = [&](std::size_t i, std::vector<float>& buffer) {
            if (!cosine) return index->addPoint(rows.row_data(i), i);
            buffer.assign(rows.row_data(i), rows.row_data(i) + rows.cols);
            detail::normalize_in_place(buffer);
            index->addPoint(buffer.data(), i);
        };
        std::vector<float> first;
        add(0, first);
        std::atomic<std::size_t> next{1};
        std::vector<std::thread> pool;
        for (std::size_t t = 0; t < std::max<std::size_t>(threads, 1); ++t)
            pool.emplace_back([&] {
                std::vector<float> buffer;
                for (std::size_t i; (i = next.fetch_add(1)) < rows.rows;) add(i, buffer);
            });
        for (auto& th : pool) th.join();
        if (!cached.empty()) index->saveIndex(cached);
    }
    /// Bytes per vector: the layer-0 block (links + vector + label), a node lock, its level and list pointer, its
    /// upper-layer lists (the label hash map is not counted).
    [[nodiscard]] double bytes_per_vector() const {
        double upper = 0;
        for (std::size_t i = 0; i < index->cur_element_count; ++i) upper += static_cast<double>(index->element_levels_[i] * index->size_links_per_element_);
        return static_cast<double>(index->size_data_per_element_ + sizeof(std::mutex) + sizeof(int) + sizeof(void*)) +
               upper / static_cast<double>(index->cur_element_count);
    }
    SearchResults<> search(std::span<const float> q, std::size_t k, std::size_t ef) {
        index->setEf(ef);
        if (cosine) {
            qn.assign(q.begin(), q.end());
            detail::normalize_in_place(qn);
            q = qn;
        }
        auto heap = index->searchKnn(q.data(), k);
        SearchResults<> out(heap.size());
        for (std::size_t i = heap.size(); i-- > 0; heap.pop()) out[i] = {static_cast<std::uint32_t>(heap.top().second), -heap.top().first};
        return out;
    }
};

}  // namespace sparsedense::bench
#endif
