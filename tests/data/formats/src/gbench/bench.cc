// Tiny Google Benchmark program whose JSON output feeds perflab's format tests.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

static void BM_Sort(benchmark::State& state) {
  std::vector<int> base(state.range(0));
  for (size_t i = 0; i < base.size(); ++i) base[i] = static_cast<int>((i * 7919) % base.size());
  for (auto _ : state) {
    std::vector<int> v = base;
    std::sort(v.begin(), v.end());
    benchmark::DoNotOptimize(v.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Sort)->Arg(64)->Arg(512);

static void BM_Memcpy(benchmark::State& state) {
  std::vector<char> src(state.range(0), 'x'), dst(state.range(0));
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), src.size());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Memcpy)->Arg(4096)->Unit(benchmark::kMicrosecond);

// Named arguments (n:…/k:…) and user counters.
static void BM_Fill(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const auto k = static_cast<int>(state.range(1));
  for (auto _ : state) {
    std::vector<int> v(n, k);
    benchmark::DoNotOptimize(v.data());
  }
  state.counters["elements"] = static_cast<double>(n);
  state.counters["fills_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Fill)->ArgNames({"n", "k"})->Args({64, 1})->Args({256, 7});

BENCHMARK_MAIN();
