// sparsedense/eval/json.hpp
//
// One JSON object as a list of members, for JSON Lines records such as BEIR's corpus.jsonl / queries.jsonl:
// parse_json_object() returns the members whose values are strings (decoded) or literals (numbers, booleans, null,
// kept as their text, e.g. an "_id" written as a number); nested objects and arrays are checked and skipped (BEIR's
// "metadata": {}). Built on io::JsonCursor, which does the scanning and validation; errors name the column, and the
// BEIR readers add file and line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sparsedense/io/json.hpp"

namespace sparsedense::eval {

/// One member of a parsed object: key and, for scalar values, the value (strings decoded; numbers, true, false,
/// null as literal text). is_string tells strings from literals; skipped (object/array) members are not listed.
struct JsonMember {
    std::string key;
    std::string value;
    bool is_string = true;
};

/// Parses one JSON object (the whole text must be that object, surrounded by optional whitespace).
[[nodiscard]] inline std::vector<JsonMember> parse_json_object(std::string_view text) {
    io::JsonCursor json(text);
    std::vector<JsonMember> out;
    json.expect('{');
    if (json.peek('}')) {
        json.expect('}');
    } else {
        do {
            if (!json.peek('"')) json.fail("expected a string key");
            JsonMember m;
            m.key = json.string();
            json.expect(':');
            if (json.peek('"')) {
                m.value = json.string();
                out.push_back(std::move(m));
            } else if (json.peek('{') || json.peek('[')) {
                json.skip_value();
            } else {
                m.value = json.literal();
                m.is_string = false;
                out.push_back(std::move(m));
            }
        } while (json.comma());
        json.expect('}');
    }
    if (!json.at_end()) json.fail("unexpected text after the object");
    return out;
}

using io::append_json_string;

}  // namespace sparsedense::eval
