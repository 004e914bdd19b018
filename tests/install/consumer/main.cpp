// A program built only against the installed package: uses the umbrella header, a kernel and the top-k collector.
#include <sparsedense/sparsedense.hpp>

#include <cstdio>
#include <vector>

int main() {
    std::vector<float> a(100, 1.0f), b(100, 2.0f);
    const float d = sparsedense::simd::dot(a.data(), b.data(), a.size());
    sparsedense::TopKCollector<> top(2);
    top.push(1, 0.5f);
    top.push(2, 1.5f);
    top.push(3, 1.0f);
    const auto best = top.sorted();
    const bool ok = d == 200.0f && best.size() == 2 && best[0].id == 2 && best[1].id == 3;
    std::printf("consumer: dot=%g level=%s %s\n", d, sparsedense::simd::simd_level_name(sparsedense::simd::active_simd_level()),
                ok ? "ok" : "WRONG");
    return ok ? 0 : 1;
}
