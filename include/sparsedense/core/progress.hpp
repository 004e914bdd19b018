// sparsedense/core/progress.hpp
//
// Progress of long builds. Every index's build parameters carry a `ProgressCallback progress` (empty by default:
// nothing is reported and nothing is paid). A build calls it with the stage it is in ("kmeans", "encode",
// "insert", ...), the items done and the items in that stage, at most about 100 times per stage plus once at
// its end (done == total).
//
// The callback runs on whichever build thread crossed the step, one call at a time (calls are serialized and
// `done` never decreases within a stage). It may throw: the exception stops the build and is rethrown by
// build() after every worker has joined, so a callback is also the way to cancel a build. The index being
// built is discarded; nothing else is changed.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string_view>

namespace sparsedense {

/// What a build reports: `done` of `total` items of `stage`.
struct BuildProgress {
    std::string_view stage;
    std::size_t done = 0;
    std::size_t total = 0;
};

using ProgressCallback = std::function<void(const BuildProgress&)>;

/// Counts the items of one build stage across threads and calls the callback each time another ~1% is done.
/// With an empty callback, advance() is one branch.
class ProgressReporter {
public:
    ProgressReporter(const ProgressCallback& callback, std::string_view stage, std::size_t total,
                     std::size_t steps = 100)
        : callback_(callback ? &callback : nullptr),
          stage_(stage),
          total_(total),
          step_(std::max<std::size_t>(1, total / std::max<std::size_t>(1, steps))) {
        if (callback_) report(0);
    }

    /// `items` more are done (thread-safe).
    void advance(std::size_t items = 1) {
        if (!callback_) return;
        const std::size_t before = done_.fetch_add(items, std::memory_order_relaxed);
        const std::size_t after = before + items;
        if (after / step_ != before / step_ && after < total_) report(after);
    }

    /// The stage is complete: reports done == total (once).
    void finish() {
        if (!callback_ || finished_) return;
        finished_ = true;
        report(total_);
    }

private:
    void report(std::size_t done) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (done < last_reported_) return;  // a later count was reported first by another thread
        last_reported_ = done;
        (*callback_)(BuildProgress{stage_, done, total_});
    }

    const ProgressCallback* callback_;
    std::string_view stage_;
    std::size_t total_;
    std::size_t step_;
    std::atomic<std::size_t> done_{0};
    std::mutex mutex_;
    std::size_t last_reported_ = 0;
    bool finished_ = false;
};

}  // namespace sparsedense
