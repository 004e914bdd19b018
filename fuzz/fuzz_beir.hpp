// Shared body of the BEIR corpus / queries / qrels targets: read, check, write, read again, compare.
#pragma once

#include "fuzz_support.hpp"
#include "sparsedense/eval/beir.hpp"

namespace sparsedense::fuzz {

template <class Read, class Write, class Check>
int fuzz_round_trip(const char* tag, const std::uint8_t* data, std::size_t size, Read read, Write write, Check check) {
    static InputFile in(tag);
    const std::string& path = in.write(data, size);
    std::optional<decltype(read(path))> parsed;
    {
        AllocationBound bound(size);
        parsed = parse([&] { return read(path); });
    }
    if (!parsed) return 0;
    check(*parsed);
    const std::string copy = in.sibling(".copy");
    FUZZ_CHECK(run([&] { write(copy, *parsed); }));
    const auto again = parse([&] { return read(copy); });
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(*again == *parsed);
    return 0;
}

}  // namespace sparsedense::fuzz
