// fuzz/fuzz_support.hpp
//
// What every libFuzzer target of sparsedense shares (docs/reliability.md tells how to build and run them):
//   - InputFile: the fuzzer's bytes written to a per-process temporary file, since the readers and loaders take a
//     path (the public entry points are what we fuzz, so no private in-memory hook is needed);
//   - AllocationBound: a malloc hook (sanitizer allocator interface) that counts the bytes live during a parse and
//     aborts as soon as they exceed `slack + factor x input size` -- the "a 100-byte file claiming 2^40 vectors
//     gets an Error, not an allocation" rule, checked on every input, far tighter than libFuzzer's -rss_limit_mb;
//   - parse(): runs a reader; sparsedense::Error is the expected way to refuse bad input, any other exception
//     (std::bad_alloc, std::length_error, std::out_of_range from .at(), ...) is a bug and aborts with its message;
//   - FUZZ_CHECK: an invariant of a successfully parsed result (round trip, ids in range, ...); aborts when false;
//   - index_file_bytes() (index_file_fixup.hpp): makes a mutated index file pass the container's checksums and size
//     field, so that mutations reach the loaders' semantic checks instead of stopping at "checksum mismatch".
#pragma once

#include <sanitizer/allocator_interface.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <typeinfo>
#include <vector>

#include "sparsedense/core/error.hpp"
#include "index_file_fixup.hpp"
#include "sparsedense/io/binary_format.hpp"

namespace sparsedense::fuzz {

/// Aborts (a libFuzzer crash, with the input saved) when an invariant of a parsed result does not hold.
#define FUZZ_CHECK(cond)                                                                              \
    do {                                                                                              \
        if (!(cond)) {                                                                                \
            std::fprintf(stderr, "FUZZ_CHECK failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);       \
            std::abort();                                                                             \
        }                                                                                             \
    } while (false)

// ---- bounded allocation -------------------------------------------------------------------------------------------

namespace detail {
inline volatile bool g_tracking = false;
inline volatile std::size_t g_live = 0, g_peak = 0, g_limit = 0, g_input = 0;

inline void malloc_hook(const volatile void*, std::size_t size) {
    if (!g_tracking) return;
    g_live = g_live + size;
    if (g_live > g_peak) g_peak = g_live;
    if (g_live > g_limit) {
        g_tracking = false;
        std::fprintf(stderr, "ALLOCATION BOUND EXCEEDED: %zu bytes live (allocation of %zu) for an input of %zu bytes (limit %zu)\n",
                     static_cast<std::size_t>(g_live), size, static_cast<std::size_t>(g_input), static_cast<std::size_t>(g_limit));
        std::abort();
    }
}
inline void free_hook(const volatile void* p) {
    if (!g_tracking || p == nullptr) return;
    const std::size_t size = __sanitizer_get_allocated_size(p);
    g_live = size > g_live ? 0 : g_live - size;
}
inline const bool g_hooks_installed = [] {
    __sanitizer_install_malloc_and_free_hooks(malloc_hook, free_hook);
    return true;
}();
}  // namespace detail

/// While alive, the bytes allocated (and not yet freed) may not exceed slack + factor * input_size.
class AllocationBound {
public:
    AllocationBound(std::size_t input_size, std::size_t factor = 32, std::size_t slack = std::size_t{1} << 20) {
        (void)detail::g_hooks_installed;
        detail::g_live = 0;
        detail::g_peak = 0;
        detail::g_input = input_size;
        detail::g_limit = slack + factor * input_size;
        detail::g_tracking = true;
    }
    ~AllocationBound() { detail::g_tracking = false; }
    AllocationBound(const AllocationBound&) = delete;
    AllocationBound& operator=(const AllocationBound&) = delete;
};

// ---- input as a file ----------------------------------------------------------------------------------------------

/// Writes bytes to a temporary file named after the process (one file per target process, rewritten per input).
class InputFile {
public:
    explicit InputFile(const char* tag) {
        const char* tmp = std::getenv("TMPDIR");
        path_ = std::string(tmp && *tmp ? tmp : "/tmp") + "/sparsedense-fuzz-" + tag + "-" + std::to_string(::getpid());
    }
    ~InputFile() { remove(); }
    InputFile(const InputFile&) = delete;
    InputFile& operator=(const InputFile&) = delete;
    /// Replaces the file's content; returns its path.
    const std::string& write(const std::uint8_t* data, std::size_t size) {
        std::FILE* f = std::fopen(path_.c_str(), "wb");
        if (f == nullptr) {
            std::perror(path_.c_str());
            std::abort();
        }
        if (size && std::fwrite(data, 1, size, f) != size) std::abort();
        std::fclose(f);
        return path_;
    }
    const std::string& write(const std::vector<std::uint8_t>& bytes) { return write(bytes.data(), bytes.size()); }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    /// A sibling path (for round trips: write the parsed result there and read it back).
    [[nodiscard]] std::string sibling(const char* suffix) const { return path_ + suffix; }
    void remove() const {
        std::error_code ec;
        std::filesystem::remove(path_, ec);
    }

private:
    std::string path_;
};

// ---- running a reader ---------------------------------------------------------------------------------------------

/// Runs f(); returns its result, or nullopt when it threw sparsedense::Error (the one accepted way to refuse input).
/// Any other exception aborts: bad input must give sparsedense::Error, not std::bad_alloc or std::out_of_range.
template <class F>
auto parse(F&& f) -> std::optional<decltype(f())> {
    try {
        return f();
    } catch (const Error& e) {
        if (std::getenv("SPARSEDENSE_FUZZ_VERBOSE")) std::fprintf(stderr, "Error: %s\n", e.what());  // triage
        return std::nullopt;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "NOT A sparsedense::Error: %s: %s\n", typeid(e).name(), e.what());
        std::abort();
    }
}
/// As parse() for a call returning nothing: true on success.
template <class F>
bool run(F&& f) {
    return parse([&] {
               f();
               return true;
           })
        .has_value();
}

}  // namespace sparsedense::fuzz
