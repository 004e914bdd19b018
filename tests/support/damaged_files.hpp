// Damaged copies of a valid index file -- truncated, with flipped bytes, bad magic, a wrong format version, or
// missing -- must each make `load` throw sparsedense::Error (never crash, never load). Shared by every module's
// save / load tests.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "sparsedense/core/error.hpp"
#include "support/temp_dir.hpp"

namespace sparsedense::testing {

template <class Load>
void require_damaged_copies_rejected(const std::string& good, const TempDir& dir, Load&& load) {
    const auto bytes = slurp(good);
    REQUIRE(bytes.size() > 256);
    const std::string bad = dir.file("damaged.bin");
    for (std::size_t keep : {std::size_t{0}, std::size_t{10}, std::size_t{63}, std::size_t{64}, std::size_t{100}, std::size_t{200},
                             bytes.size() / 2, bytes.size() - 1}) {
        spit(bad, std::vector<char>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(keep)));
        INFO("truncated to " << keep << " bytes");
        REQUIRE_THROWS_AS(load(bad), Error);
    }
    // flipped bytes in the header, the section table and the payload
    for (std::size_t at : {std::size_t{3}, std::size_t{70}, std::size_t{130}, bytes.size() / 3, bytes.size() / 2, bytes.size() - 70}) {
        auto copy = bytes;
        copy[at] = static_cast<char>(copy[at] ^ 0x5a);
        spit(bad, copy);
        INFO("byte " << at << " flipped");
        REQUIRE_THROWS_AS(load(bad), Error);
    }
    auto copy = bytes;
    copy[0] = 'X';
    spit(bad, copy);
    REQUIRE_THROWS_AS(load(bad), Error);
    // wrong format version (u32 at offset 24 of the header)
    copy = bytes;
    const std::uint32_t version = 99;
    std::memcpy(copy.data() + 24, &version, 4);
    spit(bad, copy);
    try {
        load(bad);
        FAIL("a wrong-version file loaded");
    } catch (const Error& e) {
        REQUIRE(e.kind() == ErrorKind::version_mismatch);
    }
    REQUIRE_THROWS_AS(load(dir.file("does_not_exist.bin")), Error);
}

}  // namespace sparsedense::testing
