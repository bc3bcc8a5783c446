// The attention op and its backward on every instruction set, beside the OpenBLAS sgemm ceiling,
// as Google Benchmark runs: build/bin/kattn_bench_sdpa [--benchmark_filter=...]. Counters:
// GFLOP/s with FLOPs = 4*B*N*T*S*H forward and 10*B*N*T*S*H backward (FlashAttention-2's count:
// five products, the recomputed logits one of them), half when causal, and 2*M^3 for sgemm.
// Compare ratios within one run.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cmath>

#include "bench_util.hpp"
#include "kattn/core/context.hpp"
#include "kattn/ops/sdpa.hpp"
#include "kernels/dispatch.hpp"

namespace {

using kattn::bench::random_tensor;
using kattn::kernels::Isa;

// Arguments: isa, threads, T (= S), causal; B = 1, N = 8, H = 64.
void BM_Sdpa(benchmark::State& state) {
  const auto isa = static_cast<Isa>(state.range(0));
  if (!kattn::kernels::cpu_runs(isa)) {
    state.SkipWithError("this CPU cannot run this instruction set");
    return;
  }
  const int64_t threads = state.range(1), T = state.range(2), N = 8, H = 64;
  const bool causal = state.range(3) != 0;
  const kattn::Tensor q = random_tensor({1, T, N, H}, 1), k = random_tensor({1, T, N, H}, 2),
                      v = random_tensor({1, T, N, H}, 3);
  const kattn::kernels::ScopedIsa scoped(isa);
  const kattn::ops::SdpaOptions options{
      .scale = 0.125, .is_causal = causal, .num_threads = threads};
  for (auto _ : state) {
    benchmark::DoNotOptimize(kattn::ops::scaled_dot_product_attention(q, k, v, options));
  }
  const double flop = 4.0 * static_cast<double>(N * T) * static_cast<double>(T * H);
  state.counters["GFLOP/s"] =
      benchmark::Counter((causal ? flop / 2 : flop) * static_cast<double>(state.iterations()) / 1e9,
                         benchmark::Counter::kIsRate);
  state.SetLabel(kattn::kernels::isa_name(isa));
}
BENCHMARK(BM_Sdpa)
    ->ArgNames({"isa", "threads", "T", "causal"})
    ->ArgsProduct({{static_cast<int64_t>(Isa::kPortable), static_cast<int64_t>(Isa::kAvx2),
                    static_cast<int64_t>(Isa::kAvx512)},
                   {1, 2},
                   {512, 2048},
                   {0, 1}})
    ->Args({static_cast<int64_t>(Isa::kReference), 1, 512, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Arguments: isa, threads, T (= S), causal; B = 1, N = 8, H = 64. The forward, run once before
// timing, saves the log-sum-exp the backward starts from.
void BM_SdpaBackward(benchmark::State& state) {
  const auto isa = static_cast<Isa>(state.range(0));
  if (!kattn::kernels::cpu_runs(isa)) {
    state.SkipWithError("this CPU cannot run this instruction set");
    return;
  }
  const int64_t threads = state.range(1), T = state.range(2), N = 8, H = 64;
  const bool causal = state.range(3) != 0;
  const kattn::Tensor q = random_tensor({1, T, N, H}, 1), k = random_tensor({1, T, N, H}, 2),
                      v = random_tensor({1, T, N, H}, 3), d_out = random_tensor({1, T, N, H}, 4);
  const kattn::kernels::ScopedIsa scoped(isa);
  const kattn::ops::SdpaOptions options{
      .scale = 0.125, .is_causal = causal, .return_logsumexp = true, .num_threads = threads};
  const kattn::ops::SdpaResult<float> forward =
      kattn::ops::scaled_dot_product_attention(q, k, v, options);
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        kattn::ops::scaled_dot_product_attention_backward(q, k, v, forward, d_out, options));
  }
  const double flop = 10.0 * static_cast<double>(N * T) * static_cast<double>(T * H);
  state.counters["GFLOP/s"] =
      benchmark::Counter((causal ? flop / 2 : flop) * static_cast<double>(state.iterations()) / 1e9,
                         benchmark::Counter::kIsRate);
  state.SetLabel(kattn::kernels::isa_name(isa));
}
BENCHMARK(BM_SdpaBackward)
    ->ArgNames({"isa", "threads", "T", "causal"})
    ->ArgsProduct({{static_cast<int64_t>(Isa::kPortable), static_cast<int64_t>(Isa::kAvx2),
                    static_cast<int64_t>(Isa::kAvx512)},
                   {1, 2},
                   {512, 2048},
                   {0, 1}})
    ->Args({static_cast<int64_t>(Isa::kReference), 1, 512, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Argument: threads; M = 1024.
void BM_Sgemm(benchmark::State& state) {
  const int64_t M = 1024;
  openblas_set_num_threads(static_cast<int>(state.range(0)));
  const kattn::Tensor a = random_tensor({M, M}, 1), b = random_tensor({M, M}, 2);
  kattn::Tensor c({M, M});
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, M, M, 1.0f, a.data(), M, b.data(), M,
                0.0f, c.data(), M);
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * std::pow(static_cast<double>(M), 3) * static_cast<double>(state.iterations()) / 1e9,
      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Sgemm)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
