// sparsedense/dense/inverted_lists.hpp
//
// InvertedLists: the storage of an inverted file of PQ codes (IVFADC, Jégou, Douze & Schmid, TPAMI 2011), as FAISS
// separates InvertedLists and CodePacker from IndexIVF. Each of the nlist lists holds the codes of its vectors and
// their internal ids (0, 1, 2, ... in order of addition).
//   * Code layout (the "code packer"): with nbits = 8 a list is size * m bytes, one code after the other; with
//     nbits = 4 the codes are packed in fast-scan blocks of 32 vectors (André, Kermarrec & Le Scouarnec, VLDB 2015;
//     layout in simd/detail/pq_scalar_kernels.hpp), so that simd::fast_scan reads a list as it is stored.
//   * An id-to-position map (list and position of every internal id) makes finding a vector's code and removing a
//     vector O(1): removal moves the list's last entry into the hole (swap-with-last) and updates the moved id.
//   * Two modes: owned (built in memory: one vector pair per list) and mapped (after load: views into the index
//     file, zero copy, read-only). The first mutation of a mapped instance copies everything into owned storage
//     (copy on write), so searching a loaded index never copies and adding to it still works.
// File sections (add_sections / read_sections): id_offsets, code_offsets (nlist + 1 each), list_ids, codes, list_of
// and positions (per internal id). Everything is validated before use; a file without positions (format 1) gets
// them recomputed.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "sparsedense/core/error.hpp"
#include "sparsedense/io/binary_format.hpp"
#include "sparsedense/simd/pq_kernels.hpp"

namespace sparsedense {

namespace detail {
/// An array that is a mapped io::Buffer until first written, then an owned vector.
template <class T>
class CowArray {
public:
    CowArray() = default;
    explicit CowArray(io::Buffer<T> mapped) : mapped_(std::move(mapped)), is_mapped_(true) {}
    [[nodiscard]] std::span<const T> span() const noexcept { return is_mapped_ ? mapped_.span() : std::span<const T>(owned_); }
    [[nodiscard]] std::size_t size() const noexcept { return span().size(); }
    [[nodiscard]] T operator[](std::size_t i) const noexcept { return span()[i]; }
    [[nodiscard]] bool is_mapped() const noexcept { return is_mapped_; }
    std::vector<T>& mutate() {
        if (is_mapped_) {
            owned_.assign(mapped_.begin(), mapped_.end());
            mapped_ = {};
            is_mapped_ = false;
        }
        return owned_;
    }
    [[nodiscard]] std::size_t heap_bytes() const noexcept { return owned_.capacity() * sizeof(T); }

private:
    io::Buffer<T> mapped_;
    std::vector<T> owned_;
    bool is_mapped_ = false;
};
}  // namespace detail

class InvertedLists {
public:
    static constexpr std::uint32_t kRemoved = 0xFFFFFFFFu;  ///< list_of() of a removed internal id

    /// One list as the scanners read it.
    struct ListView {
        const std::uint8_t* codes = nullptr;
        const std::uint32_t* ids = nullptr;
        std::size_t size = 0;
    };

    InvertedLists() = default;
    InvertedLists(std::size_t nlist, std::size_t m, std::size_t nbits) : m_(m), nbits_(nbits), owned_(nlist), views_(nlist) {
        if (nbits != 4 && nbits != 8) raise(ErrorKind::invalid_argument, "InvertedLists: nbits = ", nbits, " must be 4 or 8");
    }
    InvertedLists(const InvertedLists& o) { *this = o; }
    InvertedLists(InvertedLists&&) noexcept = default;
    InvertedLists& operator=(InvertedLists&&) noexcept = default;
    InvertedLists& operator=(const InvertedLists& o) {
        if (this == &o) return *this;
        m_ = o.m_, nbits_ = o.nbits_, owned_ = o.owned_, views_ = o.views_, live_ = o.live_;
        codes_ = o.codes_, ids_ = o.ids_, code_off_ = o.code_off_, id_off_ = o.id_off_, list_of_ = o.list_of_, position_ = o.position_;
        if (!is_mapped())
            for (std::size_t l = 0; l < owned_.size(); ++l) refresh_view(l);  // views into the copy's own vectors
        return *this;
    }

    [[nodiscard]] std::size_t nlist() const noexcept { return views_.size(); }
    [[nodiscard]] std::size_t m() const noexcept { return m_; }
    [[nodiscard]] std::size_t nbits() const noexcept { return nbits_; }
    /// Internal ids handed out so far (removed ones included).
    [[nodiscard]] std::size_t entries() const noexcept { return list_of_.size(); }
    /// Vectors in the lists.
    [[nodiscard]] std::size_t live() const noexcept { return live_; }
    [[nodiscard]] bool is_mapped() const noexcept { return owned_.size() != views_.size(); }
    [[nodiscard]] const ListView& list(std::size_t l) const noexcept { return views_[l]; }
    [[nodiscard]] std::size_t list_size(std::size_t l) const noexcept { return views_[l].size; }
    [[nodiscard]] bool contains(std::uint32_t internal) const noexcept { return internal < entries() && list_of_[internal] != kRemoved; }
    [[nodiscard]] std::uint32_t list_of(std::uint32_t internal) const noexcept { return list_of_[internal]; }
    [[nodiscard]] std::span<const std::uint32_t> list_of() const noexcept { return list_of_.span(); }

    /// Bytes of a list of n codes (nbits 4: whole blocks of 32).
    [[nodiscard]] std::size_t code_bytes_for(std::size_t n) const noexcept {
        return nbits_ == 4 ? ((n + 31) / 32) * simd::fast_scan_layout::block_bytes(m_) : n * m_;
    }
    /// Heap bytes (a mapped instance owns only what it computed or copied).
    [[nodiscard]] std::size_t memory_bytes() const noexcept {
        std::size_t b = views_.capacity() * sizeof(ListView) + list_of_.heap_bytes() + position_.heap_bytes();
        for (const auto& l : owned_) b += l.codes.capacity() + l.ids.capacity() * 4;
        return b;
    }

    /// The unpacked m codes (one byte each) of a stored internal id.
    void code_of(std::uint32_t internal, std::uint8_t* out) const noexcept {
        const ListView& v = views_[list_of_[internal]];
        const std::size_t pos = position_[internal];
        if (nbits_ == 4) {
            const std::uint8_t* block = v.codes + (pos / 32) * simd::fast_scan_layout::block_bytes(m_);
            for (std::size_t s = 0; s < m_; ++s) out[s] = simd::fast_scan_layout::get_code(block, pos % 32, s);
        } else {
            std::copy_n(v.codes + pos * m_, m_, out);
        }
    }

    /// Appends a vector with the next internal id (entries()) and its m unpacked codes to list l.
    std::uint32_t append(std::uint32_t l, const std::uint8_t* code) {
        make_owned();
        const auto internal = static_cast<std::uint32_t>(entries());
        List& list = owned_[l];
        const std::size_t pos = list.ids.size();
        if (nbits_ == 4) {
            const std::size_t bb = simd::fast_scan_layout::block_bytes(m_);
            if (pos % 32 == 0) list.codes.resize(list.codes.size() + bb, 0);
            std::uint8_t* block = list.codes.data() + (pos / 32) * bb;
            for (std::size_t s = 0; s < m_; ++s) simd::fast_scan_layout::set_code(block, pos % 32, s, code[s]);
        } else {
            list.codes.insert(list.codes.end(), code, code + m_);
        }
        list.ids.push_back(internal);
        list_of_.mutate().push_back(l);
        position_.mutate().push_back(static_cast<std::uint32_t>(pos));
        refresh_view(l);
        ++live_;
        return internal;
    }

    /// Removes a stored internal id in O(1) (the list's last entry takes its place). False when not stored.
    bool remove(std::uint32_t internal) {
        if (!contains(internal)) return false;
        make_owned();
        const std::uint32_t l = list_of_[internal];
        List& list = owned_[l];
        const std::size_t pos = position_[internal], last = list.ids.size() - 1;
        auto& position = position_.mutate();
        if (pos != last) {
            move_code(list, last, pos);
            list.ids[pos] = list.ids[last];
            position[list.ids[pos]] = static_cast<std::uint32_t>(pos);
        }
        list.ids.pop_back();
        if (nbits_ == 4) {
            const std::size_t bb = simd::fast_scan_layout::block_bytes(m_);
            for (std::size_t s = 0; s < m_; ++s) simd::fast_scan_layout::set_code(list.codes.data() + (last / 32) * bb, last % 32, s, 0);
        }
        list.codes.resize(code_bytes_for(list.ids.size()));
        list_of_.mutate()[internal] = kRemoved;
        position[internal] = kRemoved;
        refresh_view(l);
        --live_;
        return true;
    }

    /// Writes the sections listed at the top of this header (the spans must outlive w.write()).
    void add_sections(io::SectionWriter& w, std::vector<std::uint64_t>& id_offsets, std::vector<std::uint64_t>& code_offsets,
                      std::vector<std::uint32_t>& ids, std::vector<std::uint8_t>& codes) const {
        id_offsets.assign(nlist() + 1, 0);
        code_offsets.assign(nlist() + 1, 0);
        for (std::size_t l = 0; l < nlist(); ++l) {
            id_offsets[l + 1] = id_offsets[l] + views_[l].size;
            code_offsets[l + 1] = code_offsets[l] + code_bytes_for(views_[l].size);
        }
        w.add("id_offsets", id_offsets);
        w.add("code_offsets", code_offsets);
        if (is_mapped()) {  // still the file's layout: write the mapped arrays as they are
            w.add("list_ids", ids_.span());
            w.add("codes", codes_.span());
        } else {
            ids.clear(), codes.clear();
            ids.reserve(id_offsets.back()), codes.reserve(code_offsets.back());
            for (const auto& l : owned_) {
                ids.insert(ids.end(), l.ids.begin(), l.ids.end());
                codes.insert(codes.end(), l.codes.begin(), l.codes.end());
            }
            w.add("list_ids", ids);
            w.add("codes", codes);
        }
        w.add("list_of", list_of_.span());
        w.add("positions", position_.span());
    }

    /// Maps the sections of a file (zero copy) and validates every offset, size, id and position.
    static InvertedLists read_sections(const io::SectionReader& r, std::size_t nlist, std::size_t m, std::size_t nbits, std::size_t entries) {
        InvertedLists out(nlist, m, nbits);
        out.owned_.clear();
        out.id_off_ = r.buffer<std::uint64_t>("id_offsets", nlist + 1);
        out.code_off_ = r.buffer<std::uint64_t>("code_offsets", nlist + 1);
        out.ids_ = r.buffer<std::uint32_t>("list_ids");
        out.codes_ = r.buffer<std::uint8_t>("codes");
        out.list_of_ = detail::CowArray<std::uint32_t>(r.buffer<std::uint32_t>("list_of", entries));
        const auto& io = out.id_off_;
        const auto& co = out.code_off_;
        if (io[0] != 0 || co[0] != 0 || io[nlist] != out.ids_.size() || co[nlist] != out.codes_.size())
            r.fail(ErrorKind::corrupt_file, "list offsets do not match the list data");
        // every offset is checked before any view points through one (a pointer past the data is already UB)
        for (std::size_t l = 0; l < nlist; ++l) {
            if (io[l + 1] < io[l] || co[l + 1] < co[l]) r.fail(ErrorKind::corrupt_file, "list offsets are not increasing");
            if (co[l + 1] - co[l] != out.code_bytes_for(io[l + 1] - io[l])) r.fail(ErrorKind::corrupt_file, "list ", l, " has the wrong code size");
        }
        for (std::size_t l = 0; l < nlist; ++l) {
            const auto count = static_cast<std::size_t>(io[l + 1] - io[l]);
            out.views_[l] = count ? ListView{out.codes_.data() + co[l], out.ids_.data() + io[l], count} : ListView{};
        }
        if (r.has("positions")) {
            out.position_ = detail::CowArray<std::uint32_t>(r.buffer<std::uint32_t>("positions", entries));
        } else {  // format 1: recompute (validated below like a stored one)
            auto& p = out.position_.mutate();
            p.assign(entries, kRemoved);
            for (std::size_t l = 0; l < nlist; ++l)
                for (std::size_t i = 0; i < out.views_[l].size; ++i)
                    if (out.views_[l].ids[i] < entries) p[out.views_[l].ids[i]] = static_cast<std::uint32_t>(i);
        }
        out.validate(r);
        return out;
    }

private:
    struct List {
        std::vector<std::uint8_t> codes;
        std::vector<std::uint32_t> ids;
    };

    /// Every slot (l, pos) holds an id whose list_of / position point back to it, and every live id has a slot.
    void validate(const io::SectionReader& r) {
        const auto lof = list_of_.span();
        const auto pos = position_.span();
        std::size_t slots = 0, live = 0;
        for (std::size_t l = 0; l < nlist(); ++l) {
            const ListView& v = views_[l];
            for (std::size_t i = 0; i < v.size; ++i) {
                const std::uint32_t id = v.ids[i];
                if (id >= lof.size() || lof[id] != l || pos[id] != i) r.fail(ErrorKind::corrupt_file, "inconsistent list ids");
            }
            slots += v.size;
        }
        for (const std::uint32_t l : lof) live += l != kRemoved;
        if (live != slots) r.fail(ErrorKind::corrupt_file, "inconsistent list membership");
        live_ = slots;
    }

    /// Copy on write: the first mutation of a mapped instance copies the lists into owned storage.
    void make_owned() {
        if (!is_mapped()) return;
        owned_.assign(nlist(), List{});
        for (std::size_t l = 0; l < nlist(); ++l) {
            const ListView& v = views_[l];
            owned_[l].ids.assign(v.ids, v.ids + v.size);
            owned_[l].codes.assign(v.codes, v.codes + code_bytes_for(v.size));
            refresh_view(l);
        }
        codes_ = {}, ids_ = {}, code_off_ = {}, id_off_ = {};
        list_of_.mutate();
        position_.mutate();
    }

    void refresh_view(std::size_t l) noexcept { views_[l] = {owned_[l].codes.data(), owned_[l].ids.data(), owned_[l].ids.size()}; }

    void move_code(List& list, std::size_t from, std::size_t to) noexcept {
        if (nbits_ == 4) {
            const std::size_t bb = simd::fast_scan_layout::block_bytes(m_);
            for (std::size_t s = 0; s < m_; ++s)
                simd::fast_scan_layout::set_code(list.codes.data() + (to / 32) * bb, to % 32, s,
                                                 simd::fast_scan_layout::get_code(list.codes.data() + (from / 32) * bb, from % 32, s));
        } else {
            std::copy_n(list.codes.data() + from * m_, m_, list.codes.data() + to * m_);
        }
    }

    std::size_t m_ = 0, nbits_ = 4;
    std::vector<List> owned_;           // owned mode: one pair per list
    std::vector<ListView> views_;       // what readers use, in both modes
    io::Buffer<std::uint8_t> codes_;    // mapped mode: the file's concatenated lists
    io::Buffer<std::uint32_t> ids_;
    io::Buffer<std::uint64_t> code_off_, id_off_;
    detail::CowArray<std::uint32_t> list_of_;   // internal id -> list (kRemoved when removed)
    detail::CowArray<std::uint32_t> position_;  // internal id -> position in its list
    std::size_t live_ = 0;
};

}  // namespace sparsedense
