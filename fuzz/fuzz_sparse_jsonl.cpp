// Fuzz target: io::read_vocabulary + io::read_sparse_jsonl. The input is "<vocabulary>\0<jsonl>" (no NUL: the
// whole input is the JSONL file and the vocabulary is empty). A file that parses gives a valid CSR matrix over the
// vocabulary, one id per row; writing the rows back as JSONL (terms by name) and reading again gives the same
// matrix and ids. Both unknown-term policies are run.
#include <algorithm>
#include <cstring>
#include <fstream>

#include "fuzz_support.hpp"
#include "sparsedense/io/sparse_jsonl.hpp"

using namespace sparsedense;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static fuzz::InputFile vocab_file("vocab"), jsonl_file("jsonl");
    const auto* nul = static_cast<const std::uint8_t*>(std::memchr(data, 0, size));
    const std::size_t vocab_size = nul ? static_cast<std::size_t>(nul - data) : 0;
    const std::uint8_t* body = nul ? nul + 1 : data;
    const std::size_t body_size = size - static_cast<std::size_t>(body - data);
    vocab_file.write(data, vocab_size);
    jsonl_file.write(body, body_size);

    std::optional<io::Vocabulary> vocab;
    std::optional<io::SparseJsonl> parsed;
    {
        fuzz::AllocationBound bound(size);
        vocab = fuzz::parse([&] { return io::read_vocabulary(vocab_file.path()); });
        FUZZ_CHECK(vocab.has_value());  // any bytes are a vocabulary
        (void)fuzz::parse([&] { return io::read_sparse_jsonl(jsonl_file.path(), *vocab, io::UnknownTerms::error); });
        parsed = fuzz::parse([&] { return io::read_sparse_jsonl(jsonl_file.path(), *vocab); });
    }
    if (!parsed) return 0;
    const auto& m = parsed->vectors;
    FUZZ_CHECK(m.cols == vocab->size());
    FUZZ_CHECK(fuzz::run([&] { m.validate(); }));
    FUZZ_CHECK(parsed->ids.size() == m.rows());

    // round trip: each row back as a JSONL line, terms by name
    const std::string copy = jsonl_file.sibling(".copy");
    {
        std::ofstream out(copy, std::ios::binary);
        std::string line;
        for (std::size_t r = 0; r < m.rows(); ++r) {
            line = "{\"id\": ";
            io::append_json_string(line, parsed->ids[r]);
            line += ", \"vector\": {";
            const auto row = m.row(r);
            for (std::size_t i = 0; i < row.size(); ++i) {
                if (i) line += ", ";
                io::append_json_string(line, vocab->term(row.ids[i]));
                char w[32];
                std::snprintf(w, sizeof w, ": %.9g", static_cast<double>(row.values[i]));
                line += w;
            }
            line += "}}\n";
            out << line;
        }
    }
    const auto again = fuzz::parse([&] { return io::read_sparse_jsonl(copy, *vocab, io::UnknownTerms::error); });
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->ids == parsed->ids);
    FUZZ_CHECK(again->vectors.indptr == m.indptr && again->vectors.indices == m.indices && again->vectors.values == m.values);
    return 0;
}
