// sparsedense/version.hpp -- library version.
#pragma once
#define SPARSEDENSE_VERSION_MAJOR 0
#define SPARSEDENSE_VERSION_MINOR 1
#define SPARSEDENSE_VERSION_PATCH 0
namespace sparsedense {
inline constexpr const char* version_string = "0.1.0";
}
