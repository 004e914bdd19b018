// sparsedense/sparse/detail/parallel.hpp
//
// A minimal fork-join helper for the sparse indexes: parallel_for(n, threads, chunk, fn) runs fn(begin, end, worker)
// over [0, n) in chunks handed out by an atomic counter (dynamic scheduling: posting lists and queries have very
// uneven costs). Plain std::thread, so it works with or without OpenMP; the calling thread is worker 0. An
// exception thrown by any worker stops the hand-out and is rethrown in the caller after every worker joined.
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
    std::exception_ptr error;
    std::mutex error_mutex;
    auto work = [&](std::size_t worker) {
        try {
            while (!failed.load(std::memory_order_relaxed)) {
                const std::size_t b = next.fetch_add(chunk, std::memory_order_relaxed);
                if (b >= n) break;
                fn(b, std::min(n, b + chunk), worker);
            }
        } catch (...) {
            std::lock_guard<std::mutex> lock(error_mutex);
            if (!error) error = std::current_exception();
            failed.store(true, std::memory_order_relaxed);
        }
    };
    std::vector<std::thread> pool;
    pool.reserve(threads - 1);
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work, t);
    work(0);
    for (auto& th : pool) th.join();
    if (error) std::rethrow_exception(error);
}

}  // namespace sparsedense::detail
