// HnswIndex: add / remove concurrent with searches (checked against a model), and the f16 re-ranking copy.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "dense/hnsw_test_support.hpp"
#include "support/temp_dir.hpp"

using namespace sparsedense;
using namespace sparsedense::hnsw_test;

namespace {
/// The updater's model: which slots exist and which are deleted.
struct Model {
    std::size_t size = 0;
    std::set<std::uint32_t> deleted;
};
}  // namespace

TEST_CASE("hnsw index: adds and removes while two threads search agree with a model, removed ids never come back", "[dense][hnsw][update][concurrency]") {
    const std::size_t initial = 600, pool_rows = 300, capacity = initial + pool_rows;
    const Data data = clustered(capacity, 16, 40, 11);
    for (VectorEncoding enc : {VectorEncoding::f32, VectorEncoding::int8_per_vector}) {
        INFO("payload " << vector_encoding_name(enc));
        HnswIndex index = HnswIndex::build(DenseMatrixView<const float>(data.base.data(), initial, data.d), Metric::l2, small_params(enc));
        // removed[id] is set after remove(id) returned and cleared after an add() that reused id returned; adds
        // started / done bracket every add, so a searcher knows whether its snapshot of removed[] may be stale
        std::unique_ptr<std::atomic<bool>[]> removed(new std::atomic<bool>[capacity]);
        for (std::size_t i = 0; i < capacity; ++i) removed[i].store(false);
        std::atomic<int> adds_started{0}, adds_done{0};
        std::atomic<bool> stop{false};
        std::atomic<std::size_t> checked{0}, violations{0}, bad_results{0};

        auto searcher = [&](std::uint64_t seed) {
            std::mt19937_64 rng(seed);
            std::vector<std::uint32_t> snapshot;
            while (!stop.load()) {
                const int done_before = adds_done.load();
                snapshot.clear();
                for (std::uint32_t id = 0; id < capacity; ++id)
                    if (removed[id].load()) snapshot.push_back(id);
                const auto q = data.query(rng() % data.query_count());
                const auto hits = index.search(q, 10, {.ef = 32});
                const bool no_add_overlapped = adds_started.load() == done_before;
                for (std::size_t i = 0; i < hits.size(); ++i) {
                    if (hits[i].id >= capacity || (i > 0 && RanksBefore{}(hits[i], hits[i - 1]))) bad_results.fetch_add(1);
                    if (no_add_overlapped && std::binary_search(snapshot.begin(), snapshot.end(), hits[i].id)) violations.fetch_add(1);
                }
                if (no_add_overlapped) checked.fetch_add(1);
            }
        };
        std::thread s1(searcher, 1), s2(searcher, 2);

        Model model{initial, {}};
        std::vector<std::size_t> row_of(capacity);  // the data row each id holds
        for (std::size_t i = 0; i < initial; ++i) row_of[i] = i;
        std::mt19937_64 rng(99);
        std::size_t next_row = initial, ops = 0;
        while (ops < 120 || checked.load() < 20) {
            ++ops;
            const bool can_add = next_row < capacity;
            if (ops < 400 && (rng() % 2 == 0 || !can_add)) {  // remove a random live id
                const auto id = static_cast<std::uint32_t>(rng() % model.size);
                const bool was_live = model.deleted.count(id) == 0;
                CHECK(index.remove(id) == was_live);
                model.deleted.insert(id);
                removed[id].store(true);
            } else if (can_add) {  // add 1-3 vectors: the lowest deleted slots first, then new ids
                const std::size_t count = std::min<std::size_t>(1 + rng() % 3, capacity - next_row);
                std::vector<std::uint32_t> expected;
                for (auto it = model.deleted.begin(); it != model.deleted.end() && expected.size() < count; ++it) expected.push_back(*it);
                while (expected.size() < count) expected.push_back(static_cast<std::uint32_t>(model.size++));
                adds_started.fetch_add(1);
                const auto ids = index.add(DenseMatrixView<const float>(data.base.data() + next_row * data.d, count, data.d));
                for (std::size_t j = 0; j < ids.size(); ++j) {
                    const std::uint32_t id = ids[j];
                    row_of[id] = next_row + j;
                    model.deleted.erase(id);
                    removed[id].store(false);
                }
                adds_done.fetch_add(1);
                CHECK(ids == expected);
                next_row += count;
            } else {
                std::this_thread::yield();
            }
        }
        stop.store(true);
        s1.join();
        s2.join();
        CHECK(violations.load() == 0);
        CHECK(bad_results.load() == 0);
        CHECK(checked.load() >= 20);
        // the final state equals the model, and a search finds the live vectors (and no deleted one)
        REQUIRE(index.size() == model.size);
        CHECK(index.deleted_count() == model.deleted.size());
        std::size_t found = 0, live = 0;
        for (std::uint32_t id = 0; id < model.size; ++id) {
            CHECK(index.is_deleted(id) == (model.deleted.count(id) == 1));
            if (model.deleted.count(id) || id % 3) continue;
            ++live;
            const auto hits = index.search(std::span<const float>(data.base.data() + row_of[id] * data.d, data.d), 10, {.ef = 64});
            found += !hits.empty() && hits[0].id == id ? 1 : 0;
            for (const auto& hit : hits) CHECK(model.deleted.count(hit.id) == 0);
        }
        CHECK(static_cast<double>(found) >= 0.95 * static_cast<double>(live));
    }
}

TEST_CASE("hnsw index: searches run while a large add links its vectors, a save waits for the add to finish", "[dense][hnsw][update][concurrency]") {
    // the add links 1,600 vectors in chunks of kLinkChunk per thread and releases the writer lock between chunks:
    // a searching thread completes searches while it runs (holding the lock for the whole add, none could: the
    // search that starts after the add has taken the lock waits for its end)
    const std::size_t initial = 400, added = 1600;
    const Data data = clustered(initial + added, 16, 20, 23);
    for (std::size_t threads : {1u, 2u}) {
        INFO("insertion threads " << threads);
        auto p = small_params(VectorEncoding::f32, threads);
        HnswIndex index = HnswIndex::build(DenseMatrixView<const float>(data.base.data(), initial, data.d), Metric::l2, p);
        std::atomic<int> phase{0};  // 0 before the add, 1 while it runs, 2 after
        std::atomic<std::size_t> during{0};
        std::thread searcher([&] {
            std::size_t q = 0;
            while (phase.load() < 2) {
                const int before = phase.load();
                const auto hits = index.search(data.query(q++ % data.query_count()), 5, {.ef = 32});
                CHECK(hits.size() == 5);
                if (before == 1 && phase.load() == 1) during.fetch_add(1);  // began and ended inside the add
            }
        });
        while (index.search(data.query(0), 1).empty()) {}
        phase = 1;
        const auto ids = index.add(DenseMatrixView<const float>(data.base.data() + initial * data.d, added, data.d));
        phase = 2;
        searcher.join();
        CHECK(ids.size() == added);
        CHECK(during.load() > added / (HnswIndex::kLinkChunk * threads) / 4);  // searches got in between chunks
        // every added vector is reachable once the add has returned
        std::size_t found = 0;
        for (std::size_t i = 0; i < added; i += 16)
            found += index.search(std::span<const float>(data.base.data() + (initial + i) * data.d, data.d), 1, {.ef = 64})[0].id == initial + i;
        CHECK(found >= added / 16 * 95 / 100);
        // save() waits for a running add: the file holds every vector of it, linked
        sparsedense::testing::TempDir dir;
        const std::string path = dir.file("during.sdx");
        std::thread adder([&] { index.add(DenseMatrixView<const float>(data.queries.data(), data.query_count(), data.d)); });
        IdBitset last(initial + added + data.query_count());
        last.set(initial + added + data.query_count() - 1);
        while (index.search(data.query(0), 1, {}, last).empty()) std::this_thread::yield();  // the add has stored its vectors
        index.save(path);
        adder.join();
        const HnswIndex loaded = HnswIndex::load(path);
        CHECK(loaded.size() == initial + added + data.query_count());
        for (std::size_t q = 0; q < data.query_count(); ++q) CHECK(loaded.search(data.query(q), 1, {.ef = 64})[0].id == initial + added + q);
    }
}

TEST_CASE("hnsw index: an f16 re-ranking copy keeps recall at less memory and survives save and load", "[dense][hnsw][save_load]") {
    const Data data = clustered(2000, 24, 30);
    const FlatIndex flat = FlatIndex::build(data.view(), Metric::cosine);
    const auto truth = run(flat, data, 10, FlatIndexSearchParams{});
    HnswIndexBuildParams p32 = small_params(VectorEncoding::int8_per_vector), p16 = p32;
    p16.rerank_storage = VectorEncoding::f16;
    const HnswIndex with_f32 = HnswIndex::build(data.view(), Metric::cosine, p32);
    const HnswIndex with_f16 = HnswIndex::build(data.view(), Metric::cosine, p16);
    const HnswIndexSearchParams sp{.ef = 64};
    const double r32 = recall(run(with_f32, data, 10, sp), truth), r16 = recall(run(with_f16, data, 10, sp), truth);
    CHECK(r16 >= r32 - 0.01);
    CHECK(with_f16.memory_bytes() + data.n * data.d * 2 == with_f32.memory_bytes());
    // scores are the f16 copy's: close to the exact ones
    const auto hits = with_f16.search(data.query(0), 5, sp);
    for (const auto& h : hits) CHECK(h.score == Approx(flat.score(data.query(0), h.id)).margin(2e-3));
    sparsedense::testing::TempDir dir;
    with_f16.save(dir.file("f16.sdx"));
    const HnswIndex loaded = HnswIndex::load(dir.file("f16.sdx"));
    CHECK(loaded.build_params().rerank_storage == VectorEncoding::f16);
    CHECK(loaded.memory_bytes() == with_f16.memory_bytes());
    for (std::size_t q = 0; q < data.query_count(); ++q) CHECK(loaded.search(data.query(q), 10, sp) == with_f16.search(data.query(q), 10, sp));
    HnswIndexBuildParams bad = p32;
    bad.rerank_storage = VectorEncoding::int8_per_vector;
    CHECK_THROWS_WITH(HnswIndex(24, Metric::cosine, bad), Catch::Contains("rerank_storage = 3"));
}
