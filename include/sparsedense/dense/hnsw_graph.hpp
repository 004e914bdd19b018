// sparsedense/dense/hnsw_graph.hpp
//
// HnswGraph: the layered adjacency of a hierarchical navigable small-world graph (Malkov & Yashunin, "Efficient and
// robust approximate nearest neighbor search using Hierarchical Navigable Small World graphs", TPAMI 2018).
//
// Layout (what a search touches first is contiguous and fixed-size):
//   layer 0     one block of (M0 + 1) u32 per node: [count, id_1 .. id_M0], M0 = 2M, node i's block at i * (M0 + 1).
//               Every node has one; a hop reads one block (132 bytes for M = 16) and no pointer.
//   levels      one u8 per node: the highest layer the node is in (drawn at insertion, -ln(U) / ln(M)).
//   upper       layers 1..L of a node with level L >= 1 are L consecutive blocks of (M + 1) u32 in one array;
//               upper_offset[i] is the first block of node i (unused for level-0 nodes, ~1 - 1/M of them).
// The arrays are io::Buffers: owned while building, views into the mapped file after load() (a later change copies
// them first). Writers (the index's build) get raw pointers through the mutable_* accessors and serialise access to
// a node's lists with their own locks; readers of a finished graph take no lock.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "sparsedense/core/error.hpp"
#include "sparsedense/io/binary_format.hpp"

namespace sparsedense {

class HnswGraph {
public:
    static constexpr std::uint32_t kNoNode = 0xFFFFFFFFu;
    static constexpr std::size_t kMaxLevel = 32;

    HnswGraph() = default;
    explicit HnswGraph(std::size_t m) : m_(m), m0_(2 * m) {}

    [[nodiscard]] std::size_t size() const noexcept { return levels_.size(); }
    [[nodiscard]] std::size_t m() const noexcept { return m_; }
    /// Most neighbours a node keeps on `level` (2M on layer 0, M above).
    [[nodiscard]] std::size_t max_degree(std::size_t level) const noexcept { return level == 0 ? m0_ : m_; }
    [[nodiscard]] std::uint32_t entry() const noexcept { return entry_; }
    [[nodiscard]] std::size_t max_level() const noexcept { return max_level_; }
    [[nodiscard]] std::size_t level(std::uint32_t id) const noexcept { return levels_[id]; }
    void set_entry(std::uint32_t id, std::size_t level) noexcept {
        entry_ = id;
        max_level_ = level;
    }

    /// The list block of `id` on `level`: [count, ids...]; level must be <= level(id).
    [[nodiscard]] const std::uint32_t* block(std::uint32_t id, std::size_t level) const noexcept {
        if (level == 0) return level0_.data() + std::size_t{id} * (m0_ + 1);
        return upper_.data() + (std::size_t{upper_offset_[id]} + level - 1) * (m_ + 1);
    }
    [[nodiscard]] std::span<const std::uint32_t> neighbors(std::uint32_t id, std::size_t level) const noexcept {
        const std::uint32_t* b = block(id, level);
        return {b + 1, b[0]};
    }
    /// Prefetches the layer-0 block of `id` (three cache lines cover M = 16).
    void prefetch_level0(std::uint32_t id) const noexcept {
        const auto* p = reinterpret_cast<const char*>(level0_.data() + std::size_t{id} * (m0_ + 1));
        for (std::size_t o = 0; o < (m0_ + 1) * 4; o += 64) __builtin_prefetch(p + o);
    }

    /// Appends nodes with the given levels (no links yet). Copies mapped arrays into memory first.
    void append_nodes(std::span<const std::uint8_t> levels) {
        if (size() + levels.size() > 0x7FFFFFFFull)  // the walk marks expanded nodes with the top bit of their id
            raise(ErrorKind::invalid_argument, "HnswIndex: ", size() + levels.size(), " vectors, at most 2^31 - 1 allowed");
        std::size_t blocks = upper_.size() / (m_ + 1);
        levels_.modify([&](auto& v) { v.insert(v.end(), levels.begin(), levels.end()); });
        upper_offset_.modify([&](auto& v) {
            for (std::uint8_t l : levels) {
                v.push_back(static_cast<std::uint32_t>(l ? blocks : 0));
                blocks += l;
            }
        });
        if (blocks > 0xFFFFFFFFull) raise(ErrorKind::invalid_argument, "HnswIndex: too many upper-layer lists (", blocks, ")");
        level0_.modify([&](auto& v) { v.resize(size() * (m0_ + 1), 0); });
        upper_.modify([&](auto& v) { v.resize(blocks * (m_ + 1), 0); });
    }

    /// Writable list block (owned arrays only: call make_owned() once before writing).
    [[nodiscard]] std::uint32_t* mutable_block(std::uint32_t id, std::size_t level) noexcept {
        return const_cast<std::uint32_t*>(block(id, level));  // owned storage, see make_owned()
    }
    void set_neighbors(std::uint32_t id, std::size_t level, std::span<const std::uint32_t> ids) noexcept {
        std::uint32_t* b = mutable_block(id, level);
        b[0] = static_cast<std::uint32_t>(ids.size());
        std::copy(ids.begin(), ids.end(), b + 1);
    }
    /// Makes every array owned memory (copy-on-write of a loaded graph), so the mutable accessors may write.
    void make_owned() {
        level0_.modify([](auto&) {});
        upper_.modify([](auto&) {});
        levels_.modify([](auto&) {});
        upper_offset_.modify([](auto&) {});
    }
    [[nodiscard]] bool is_mapped() const noexcept { return level0_.is_mapped(); }
    [[nodiscard]] std::size_t memory_bytes() const noexcept {
        return level0_.size_bytes() + upper_.size_bytes() + levels_.size_bytes() + upper_offset_.size_bytes();
    }

    // ---- files
    struct Meta {
        std::uint64_t m;
        std::uint64_t count;
        std::uint32_t entry;
        std::uint32_t max_level;
    };
    /// Adds the graph's arrays; add_level0_section() adds the largest one (written last by the index, so that the
    /// file's tail is data rather than padding).
    void add_sections(io::SectionWriter& w) const {
        w.add_value("gmeta", Meta{m_, size(), entry_, static_cast<std::uint32_t>(max_level_)});
        w.add<std::uint8_t>("glevels", levels_.span());
        w.add<std::uint32_t>("goffset", upper_offset_.span());
        w.add<std::uint32_t>("gupper", upper_.span());
    }
    void add_level0_section(io::SectionWriter& w) const { w.add<std::uint32_t>("glevel0", level0_.span()); }
    /// Reads and validates a graph of `count` nodes written by add_sections (the arrays stay in the mapping).
    static HnswGraph read_sections(const io::SectionReader& r, std::size_t count) {
        const auto meta = r.value<Meta>("gmeta");
        if (meta.m < 2 || meta.m > 1024 || meta.count != count)
            r.fail(ErrorKind::corrupt_file, "invalid graph header (M ", meta.m, ", ", meta.count, " nodes for ", count, " vectors)");
        HnswGraph g(meta.m);
        g.levels_ = r.buffer<std::uint8_t>("glevels", count);
        g.upper_offset_ = r.buffer<std::uint32_t>("goffset", count);
        g.level0_ = r.buffer<std::uint32_t>("glevel0", count * (g.m0_ + 1));
        g.upper_ = r.buffer<std::uint32_t>("gupper");
        g.entry_ = meta.entry;
        g.max_level_ = meta.max_level;
        g.validate(r);
        return g;
    }

private:
    /// Every offset, count and link in range, the entry point at the top level: a loaded graph cannot send a
    /// search outside its arrays.
    void validate(const io::SectionReader& r) const {
        const std::size_t n = size();
        if (upper_.size() % (m_ + 1) != 0) r.fail(ErrorKind::corrupt_file, "upper-layer lists have a partial block");
        if (n == 0) {
            if (entry_ != kNoNode || !upper_.empty()) r.fail(ErrorKind::corrupt_file, "an empty graph with an entry point or lists");
            return;
        }
        if (entry_ >= n || max_level_ > kMaxLevel || levels_[entry_] != max_level_)
            r.fail(ErrorKind::corrupt_file, "entry point ", entry_, " at level ", max_level_, " is not a top-level node");
        std::size_t blocks = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (levels_[i] > max_level_) r.fail(ErrorKind::corrupt_file, "node ", i, " has level ", unsigned{levels_[i]}, " above the top ", max_level_);
            if (levels_[i] && upper_offset_[i] != blocks) r.fail(ErrorKind::corrupt_file, "node ", i, " has upper-list offset ", upper_offset_[i]);
            blocks += levels_[i];
        }
        if (blocks * (m_ + 1) != upper_.size()) r.fail(ErrorKind::corrupt_file, "upper-layer lists hold ", upper_.size(), " values, expected ", blocks * (m_ + 1));
        auto check_block = [&](const std::uint32_t* b, std::size_t cap, std::size_t node) {
            if (b[0] > cap) r.fail(ErrorKind::corrupt_file, "node ", node, " has ", b[0], " neighbours, at most ", cap, " allowed");
            for (std::uint32_t j = 1; j <= b[0]; ++j)
                if (b[j] >= n) r.fail(ErrorKind::corrupt_file, "node ", node, " links to node ", b[j], " of ", n);
        };
        for (std::size_t i = 0; i < n; ++i) {
            const auto id = static_cast<std::uint32_t>(i);
            for (std::size_t l = 0; l <= levels_[i]; ++l) check_block(block(id, l), max_degree(l), i);
        }
    }

    std::size_t m_ = 16, m0_ = 32;
    std::uint32_t entry_ = kNoNode;
    std::size_t max_level_ = 0;
    io::Buffer<std::uint32_t> level0_;
    io::Buffer<std::uint8_t> levels_;
    io::Buffer<std::uint32_t> upper_offset_;
    io::Buffer<std::uint32_t> upper_;
};

}  // namespace sparsedense
