// AdditiveAttention and Attention(score_mode="concat") (the tanh scorers of the fused kernel)
// and Attention "dot", on every instruction set, as Google Benchmark runs:
// build/bin/kattn_bench_dense_attention. Counter: scores per second (B * Tq * Tv). The
// reference runs materialise the (B, Tq, Tv) scores with scalar tanh; compare ratios within one
// run.
#include <benchmark/benchmark.h>

#include "bench_util.hpp"
#include "kattn/core/context.hpp"
#include "kattn/layers/attention.hpp"
#include "kernels/dispatch.hpp"

namespace {

using kattn::bench::random_tensor;
using kattn::kernels::Isa;

enum Layer : int64_t { kAdditive, kConcat, kDot };

// Arguments: layer, isa, threads; B = 8, Tq = Tv = 256, D = 64.
void BM_DenseAttention(benchmark::State& state) {
  const auto isa = static_cast<Isa>(state.range(1));
  if (!kattn::kernels::cpu_runs(isa)) {
    state.SkipWithError("this CPU cannot run this instruction set");
    return;
  }
  const int64_t B = 8, T = 256, D = 64;
  const kattn::Tensor query = random_tensor({B, T, D}, 1), value = random_tensor({B, T, D}, 2);
  std::unique_ptr<kattn::DenseAttention> layer;
  if (state.range(0) == kAdditive) {
    layer = std::make_unique<kattn::AdditiveAttention>();
  } else {
    layer = std::make_unique<kattn::Attention>(kattn::Attention::Args{
        .use_scale = true, .score_mode = state.range(0) == kConcat ? "concat" : "dot"});
  }
  const kattn::kernels::ScopedIsa scoped(isa);
  const kattn::ScopedNumThreads threads(state.range(2));
  for (auto _ : state) benchmark::DoNotOptimize(layer->call(query, value));
  state.counters["scores/s"] =
      benchmark::Counter(static_cast<double>(B * T * T) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
  state.SetLabel(layer->class_name() + " " + kattn::kernels::isa_name(isa));
}
BENCHMARK(BM_DenseAttention)
    ->ArgNames({"layer", "isa", "threads"})
    ->ArgsProduct({{kAdditive, kConcat, kDot},
                   {static_cast<int64_t>(Isa::kReference), static_cast<int64_t>(Isa::kPortable),
                    static_cast<int64_t>(Isa::kAvx2), static_cast<int64_t>(Isa::kAvx512)},
                   {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
