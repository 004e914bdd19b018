// sparsedense/dense/detail/parallel.hpp
//
// parallel_for over [0, n) in contiguous slices, one std::thread per slice (the calling thread takes the first).
// Used by batch search and training; std::thread keeps results independent of OpenMP availability. An exception
// thrown by any slice is rethrown in the caller after every thread has joined.
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace sparsedense::detail {

/// Threads to use: 0 means "all hardware threads"; never more than the number of items.
[[nodiscard]] inline std::size_t resolve_threads(std::size_t requested, std::size_t items) noexcept {
    std::size_t t = requested ? requested : std::max<std::size_t>(1, std::thread::hardware_concurrency());
    return std::max<std::size_t>(1, std::min(t, items));
}

/// fn(begin, end, slice_index) for `threads` slices of [0, n).
template <class Fn>
void parallel_for(std::size_t n, std::size_t threads, Fn&& fn) {
    if (n == 0) return;
    threads = resolve_threads(threads, n);
    if (threads == 1) {
        fn(std::size_t{0}, n, std::size_t{0});
        return;
    }
    std::exception_ptr error;
    std::mutex error_mutex;
    auto run = [&](std::size_t t) {
        const std::size_t begin = n * t / threads, end = n * (t + 1) / threads;
        try {
            fn(begin, end, t);
        } catch (...) {
            std::lock_guard<std::mutex> lock(error_mutex);
            if (!error) error = std::current_exception();
        }
    };
    std::vector<std::thread> pool;
    pool.reserve(threads - 1);
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(run, t);
    run(0);
    for (auto& th : pool) th.join();
    if (error) std::rethrow_exception(error);
}

}  // namespace sparsedense::detail
