#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "sparsedense/io/binary_format.hpp"
#include "support/temp_dir.hpp"

using namespace sparsedense;
using sparsedense::testing::slurp;
using sparsedense::testing::spit;
using namespace sparsedense::io;

namespace {
void write_sample(const std::string& path, std::uint32_t version = 3) {
    std::vector<std::uint32_t> ids(1000);
    std::iota(ids.begin(), ids.end(), 7u);
    std::vector<float> weights(333, 0.25f);
    SectionWriter w("TestIndex", version);
    w.add("ids", ids);
    w.add("weights", weights);
    w.add_value("count", std::uint64_t{1000});
    w.write(path);
}
}  // namespace

TEST_CASE("section files round-trip and are viewed in place", "[io][binary]") {
    testing::TempDir dir;
    const std::string path = dir.file("sample.sdx");
    write_sample(path);
    SectionReader r(path, "TestIndex", 1, 3);
    REQUIRE(r.version() == 3);
    REQUIRE(r.value<std::uint64_t>("count") == 1000);
    const auto ids = r.span<std::uint32_t>("ids", 1000);
    REQUIRE(ids.size() == 1000);
    REQUIRE(ids[0] == 7);
    REQUIRE(ids[999] == 1006);
    REQUIRE(reinterpret_cast<std::uintptr_t>(ids.data()) % 64 == 0);
    Buffer<float> weights = r.buffer<float>("weights");
    REQUIRE(weights.is_mapped());
    REQUIRE(weights.size() == 333);
    REQUIRE(weights[332] == 0.25f);
    // the buffer keeps the mapping alive after the reader is gone
    Buffer<float> copy = weights;
    weights = Buffer<float>();
    REQUIRE(copy[0] == 0.25f);
    REQUIRE_FALSE(r.has("missing"));
    REQUIRE_THROWS_WITH(r.span<float>("missing"), Catch::Contains("missing section 'missing'"));
    REQUIRE_THROWS_WITH(r.span<std::uint64_t>("ids"), Catch::Contains("elements of 4 bytes"));
    REQUIRE_THROWS_WITH(r.span<std::uint32_t>("ids", 10), Catch::Contains("expected 10"));
}

TEST_CASE("section files: wrong kind, wrong version, truncation and corruption are clear errors", "[io][binary][corrupt]") {
    testing::TempDir dir;
    const std::string path = dir.file("sample.sdx");
    write_sample(path, 5);
    REQUIRE_THROWS_WITH(SectionReader(path, "OtherIndex", 1, 5), Catch::Contains("expected a 'OtherIndex'"));
    try {
        SectionReader(path, "TestIndex", 1, 4);
        FAIL("no exception");
    } catch (const Error& e) {
        REQUIRE(e.kind() == ErrorKind::version_mismatch);
        REQUIRE_THAT(e.what(), Catch::Contains("format version 5"));
    }
    const auto bytes = slurp(path);
    const std::string bad = dir.file("bad.sdx");
    for (std::size_t cut : {std::size_t{0}, std::size_t{10}, std::size_t{64}, std::size_t{100}, bytes.size() - 1}) {
        spit(bad, std::vector<char>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut)));
        CAPTURE(cut);
        REQUIRE_THROWS_AS(SectionReader(bad, "TestIndex", 1, 5), Error);
    }
    // flip one byte in every region: magic, kind, version, section table, each section's payload
    // (layout: 64-byte header, 3 x 48-byte entries, then sections at 256 (ids, 4000 B), 4288 (weights), 5632 (count))
    for (std::size_t pos : {std::size_t{2}, std::size_t{12}, std::size_t{24}, std::size_t{70}, std::size_t{150}, std::size_t{300},
                            std::size_t{4300}, std::size_t{5632}}) {
        auto corrupted = bytes;
        corrupted[pos] = static_cast<char>(corrupted[pos] ^ 0x5a);
        spit(bad, corrupted);
        CAPTURE(pos);
        REQUIRE_THROWS_AS(SectionReader(bad, "TestIndex", 1, 5), Error);
    }
    REQUIRE_THROWS_WITH(SectionReader(dir.file("absent.sdx"), "TestIndex", 1, 5), Catch::Contains("cannot open"));
}

TEST_CASE("atomic writes leave the old file intact when writing fails", "[io][binary][atomic]") {
    testing::TempDir dir;
    const std::string path = dir.file("sample.sdx");
    write_sample(path);
    const auto before = slurp(path);
    {
        AtomicFileWriter w(path);
        w.write("partial", 7);
        // destroyed without commit(): the destination is untouched, the temporary removed
    }
    REQUIRE(slurp(path) == before);
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++files;
    REQUIRE(files == 1);
    SectionWriter w("TestIndex", 1);
    REQUIRE_THROWS_AS(w.add_value("a-name-much-too-long", 1), Error);
    w.add_value("x", 1);
    REQUIRE_THROWS_WITH(w.add_value("x", 2), Catch::Contains("added twice"));
    REQUIRE_THROWS_AS(w.write(dir.file("no/such/dir/file.sdx")), Error);
}
