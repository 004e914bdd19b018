// Fuzz target: io::JsonCursor and eval::parse_json_object on arbitrary bytes. skip_value() must accept exactly
// one value or throw; an object that parses, re-serialized (strings through append_json_string, literals as
// their text), parses to the same members.
#include "fuzz_support.hpp"
#include "sparsedense/eval/json.hpp"
#include "sparsedense/io/json.hpp"

using namespace sparsedense;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::optional<std::vector<eval::JsonMember>> members;
    {
        fuzz::AllocationBound bound(size);
        (void)fuzz::run([&] {
            io::JsonCursor json(text);
            json.skip_value();
            (void)json.at_end();
        });
        members = fuzz::parse([&] { return eval::parse_json_object(text); });
    }
    if (!members) return 0;
    std::string again_text = "{";
    for (std::size_t i = 0; i < members->size(); ++i) {
        const auto& m = (*members)[i];
        if (i) again_text += ", ";
        io::append_json_string(again_text, m.key);
        again_text += ": ";
        if (m.is_string) io::append_json_string(again_text, m.value);
        else again_text += m.value;
    }
    again_text += "}";
    const auto again = fuzz::parse([&] { return eval::parse_json_object(again_text); });
    FUZZ_CHECK(again.has_value() && again->size() == members->size());
    for (std::size_t i = 0; i < members->size(); ++i) {
        FUZZ_CHECK((*again)[i].key == (*members)[i].key);
        FUZZ_CHECK((*again)[i].value == (*members)[i].value);
        FUZZ_CHECK((*again)[i].is_string == (*members)[i].is_string);
    }
    return 0;
}
