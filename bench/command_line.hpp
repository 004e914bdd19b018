// bench/command_line.hpp -- the command lines of the stand-alone bench programs, on CLI11 (Debian's header-only
// libcli11-dev: a dependency of bench/ only, never of the library). Each program binds its flags to an options struct
// on a CLI::App and calls cli::parse: --help prints the help CLI11 generates from those bindings and exits 0; an
// unknown flag, a missing or malformed value, or a value its validator rejects prints what is wrong and
// "Run with --help for more information." on stderr and exits 2.
//
// The validators below name the value at fault and the range it must lie in (CLI::PositiveNumber's message prints
// the largest double in full). Lists are comma-separated (`--ef 10,20,40`: an option on a std::vector with
// ->delimiter(',')); a validator checks every element.
#pragma once

#include <cmath>
#include <cstdlib>
#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "sparsedense/core/error.hpp"

namespace sparsedense::bench::cli {

/// Parses the command line into the options bound to `app`, then runs `check` (constraints between flags, which
/// throws CLI::ValidationError); exits 0 after --help, 2 on a bad command line.
inline void parse(CLI::App& app, int argc, char** argv, const std::function<void()>& check = {}) {
    try {
        app.parse(argc, argv);
        if (check) check();
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        std::exit(code == 0 ? 0 : 2);
    }
}

/// A number in the interval from `lo` to `hi` (`lo_open`: lo itself excluded); `name` is shown in --help.
inline CLI::Validator number_in(double lo, double hi, bool lo_open, std::string name) {
    const std::string interval = detail::concat(lo_open ? "(" : "[", lo, ", ", std::isinf(hi) ? std::string("inf)") : detail::concat(hi, "]"));
    return CLI::Validator(
        [lo, hi, lo_open, interval](std::string& text) -> std::string {
            double x = 0;
            if (!CLI::detail::lexical_cast(text, x)) return "'" + text + "' is not a number";
            if (std::isnan(x) || (lo_open ? x <= lo : x < lo) || x > hi) return "value " + text + " is not in " + interval;
            return {};
        },
        std::move(name));
}

inline const CLI::Validator positive = number_in(0, INFINITY, true, "> 0");
inline const CLI::Validator non_negative = number_in(0, INFINITY, false, ">= 0");
inline const CLI::Validator fraction = number_in(0, 1, true, "in (0, 1]");
inline const CLI::Validator unit_interval = number_in(0, 1, false, "in [0, 1]");

/// A value `parse` accepts (e.g. sparsedense::parse_metric): its sparsedense::Error message is the validator's.
template <class Parse>
CLI::Validator parsed_by(Parse parse, std::string name) {
    return CLI::Validator(
        [parse](std::string& text) -> std::string {
            try {
                (void)parse(text);
            } catch (const Error& e) {
                return e.what();
            }
            return {};
        },
        std::move(name));
}

}  // namespace sparsedense::bench::cli
