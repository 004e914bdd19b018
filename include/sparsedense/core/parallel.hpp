// sparsedense/core/parallel.hpp
//
// Fork-join loops on std::thread (so results do not depend on whether OpenMP is present), used for index
// building and batch search. Two schedules:
//   parallel_for(n, threads, fn)         `threads` contiguous slices [n*t/T, n*(t+1)/T), slice t run as fn(b, e, t).
//                                        Fixed assignment: per-slice partial results combine in the same order on
//                                        every run (k-means stays bit-reproducible).
//   parallel_for(n, threads, chunk, fn)  chunks of `chunk` items handed out by an atomic counter, fn(b, e, worker).
//                                        Dynamic: for very uneven costs (posting lists, queries).
// threads = 0 means every hardware thread; the calling thread is worker 0. An exception thrown by any worker stops
// further hand-out and is rethrown in the caller after every thread has joined.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace sparsedense::detail {

/// 0 means "all hardware threads"; the result is at least 1.
inline std::size_t resolve_threads(std::size_t threads) noexcept {
    if (threads == 0) threads = std::thread::hardware_concurrency();
    return std::max<std::size_t>(1, threads);
}
/// As above, and never more than the number of items.
[[nodiscard]] inline std::size_t resolve_threads(std::size_t requested, std::size_t items) noexcept {
    return std::max<std::size_t>(1, std::min(resolve_threads(requested), items));
}

/// Runs work(worker) on `threads` threads (the caller is worker 0), collecting the first exception.
template <class Work>
void run_workers(std::size_t threads, Work&& work, std::atomic<bool>* failed = nullptr) {
    std::exception_ptr error;
    std::mutex error_mutex;
    auto guarded = [&](std::size_t worker) {
        try {
            work(worker);
        } catch (...) {
            std::lock_guard<std::mutex> lock(error_mutex);
            if (!error) error = std::current_exception();
            if (failed) failed->store(true, std::memory_order_relaxed);
        }
    };
    std::vector<std::thread> pool;
    pool.reserve(threads - 1);
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(guarded, t);
    guarded(0);
    for (auto& th : pool) th.join();
    if (error) std::rethrow_exception(error);
}

/// Static schedule: fn(begin, end, slice) for `threads` contiguous slices of [0, n).
template <class Fn>
void parallel_for(std::size_t n, std::size_t threads, Fn&& fn) {
    if (n == 0) return;
    threads = resolve_threads(threads, n);
    if (threads == 1) {
        fn(std::size_t{0}, n, std::size_t{0});
        return;
    }
    run_workers(threads, [&](std::size_t t) { fn(n * t / threads, n * (t + 1) / threads, t); });
}

/// Dynamic schedule: fn(begin, end, worker) over chunks of `chunk` items.
template <class Fn>
void parallel_for(std::size_t n, std::size_t threads, std::size_t chunk, Fn&& fn) {
    if (n == 0) return;
    chunk = std::max<std::size_t>(1, chunk);
    threads = std::min(resolve_threads(threads), (n + chunk - 1) / chunk);
    if (threads <= 1) {
        for (std::size_t b = 0; b < n; b += chunk) fn(b, std::min(n, b + chunk), std::size_t{0});
        return;
    }
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    run_workers(
        threads,
        [&](std::size_t worker) {
            while (!failed.load(std::memory_order_relaxed)) {
                const std::size_t b = next.fetch_add(chunk, std::memory_order_relaxed);
                if (b >= n) break;
                fn(b, std::min(n, b + chunk), worker);
            }
        },
        &failed);
}

}  // namespace sparsedense::detail
