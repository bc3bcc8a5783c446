// The projections' packed product (kernels/gemm/packed_gemm.hpp, AVX2) beside OpenBLAS sgemm on the
// same square shapes, as Google Benchmark runs: build/bin/kattn_bench_packed_gemm. Counter: GFLOP/s
// with FLOPs = 2*M^3. Compare ratios within one run.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cmath>

#include "bench_util.hpp"
#include "kattn/core/tensor.hpp"
#include "kernels/gemm/packed_gemm.hpp"

namespace {

using kattn::bench::random_tensor;

void set_rate(benchmark::State& state, int64_t m) {
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * std::pow(static_cast<double>(m), 3) * static_cast<double>(state.iterations()) / 1e9,
      benchmark::Counter::kIsRate);
}

// Arguments: threads, M (= N = K).
void BM_PackedGemm(benchmark::State& state) {
  if (!kattn::kernels::packed_gemm_available()) {
    state.SkipWithError("this CPU has no AVX2 or AVX-512");
    return;
  }
  const int64_t threads = state.range(0), M = state.range(1);
  const kattn::Tensor a = random_tensor({M, M}, 1), b = random_tensor({M, M}, 2);
  kattn::Tensor c({M, M});
  const kattn::kernels::PackedMatrix packed(b.data(), M, M);
  const kattn::kernels::PackedGemmParams params{M, a.data(), M, &packed, nullptr, c.data(), M};
  for (auto _ : state) {
    kattn::kernels::packed_gemm_run(params, threads);
    benchmark::ClobberMemory();
  }
  set_rate(state, M);
}
BENCHMARK(BM_PackedGemm)
    ->ArgNames({"threads", "M"})
    ->ArgsProduct({{1, 2}, {512, 1024}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Arguments: threads, M (= N = K).
void BM_Sgemm(benchmark::State& state) {
  const int64_t M = state.range(1);
  const auto m = static_cast<blasint>(M);
  openblas_set_num_threads(static_cast<int>(state.range(0)));
  const kattn::Tensor a = random_tensor({M, M}, 1), b = random_tensor({M, M}, 2);
  kattn::Tensor c({M, M});
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.0f, a.data(), m, b.data(), m,
                0.0f, c.data(), m);
    benchmark::ClobberMemory();
  }
  set_rate(state, M);
}
BENCHMARK(BM_Sgemm)
    ->ArgNames({"threads", "M"})
    ->ArgsProduct({{1, 2}, {512, 1024}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
