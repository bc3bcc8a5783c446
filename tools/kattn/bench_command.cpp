// kattn bench: times kattn's kernels and layers, and the OpenBLAS sgemm ceiling they are judged
// against, on random inputs (never zeros), after a warm-up; reports median, min and max.
#include <cblas.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "command_line.hpp"
#include "fma_peak.hpp"
#include "kattn/core/context.hpp"
#include "kattn/io/npy.hpp"
#include "kattn/layers/attention.hpp"
#include "kattn/layers/grouped_query_attention.hpp"
#include "kattn/layers/gru.hpp"
#include "kattn/layers/kv_cache.hpp"
#include "kattn/layers/lstm.hpp"
#include "kattn/layers/multi_head_attention.hpp"
#include "kattn/ops/sdpa.hpp"
#include "kernels/dispatch.hpp"

namespace kattn::cli {

namespace {

constexpr const char* kHelp = R"(usage: kattn bench <what> [options]

what:
  sdpa       the attention op (kattn/ops/sdpa.hpp) on (B, T, N, H) inputs
               --batch B --heads N [--kv-heads K] --seq-q T --seq-k S --head-dim H [--causal]
               [--scores]; GFLOP = 4*B*N*T*S*H / 1e9, half with --causal
             --backward times its backward instead, from a forward that saved the
               log-sum-exp, and the OpenBLAS sgemm peak after it (the best of M = 512, 1024,
               2048), reporting the ratio; GFLOP = 10*B*N*T*S*H / 1e9, half with --causal:
               five products of 2*B*N*T*S*H (dV, dP, dK, dQ and the recomputed logits),
               FlashAttention-2's count
  additive   the AdditiveAttention layer on (B, T, H) query and (B, S, H) value
               --batch B --seq-q T --seq-k S --head-dim H; GFLOP = 4*B*T*S*H / 1e9
  luong      the Attention layer (score_mode "dot", use_scale), the same inputs and options
             --backward (additive, luong) times the layer's backward instead, from a training
               forward, and then the reference kernels' backward (KATTN_ISA=reference) in the
               same run, reporting how many times faster; GFLOP as for the forward
  mha        the MultiHeadAttention layer, self-attention on (B, T, E)
               --batch B --seq-q T --embed E --heads N [--causal];
               GFLOP = (8*B*T*E*E + 4*B*T*T*E) / 1e9 (four projections, the attention)
  decode     one generation step of the MultiHeadAttention layer (GroupQueryAttention with
               --kv-heads) on a key/value cache holding C positions: the new token's four
               projections, its keys and values appended, attention over the cache
               --batch B --context C --embed E --heads N [--kv-heads K]
               [--cache-dtype float32|float16|bfloat16]; reports tokens per second (B per
               step); GFLOP = (4*B*E*E + 4*B*C*E) / 1e9 with K = N
  lstm       the LSTM layer on (B, T, F) sequences, returning the last output (inference)
               --batch B --seq-q T --embed F --units U;
               GFLOP = 8*B*T*(F+U)*U / 1e9 (the input and recurrent products of the 4 gates)
  gru        the GRU layer (reset_after), the same options; GFLOP = 6*B*T*(F+U)*U / 1e9
  sgemm      OpenBLAS sgemm of two (M, M) matrices, the ceiling the others are judged against
               --size M; GFLOP = 2*M^3 / 1e9
  fma        the CPU's peak: independent FMA chains at the widest vector width it has (the
               report's isa: avx512 or avx2), one copy per thread

every one:
  --save DIR      (sdpa, mha, lstm, gru) also write the inputs and kattn's output as .npy
                  files in DIR, for peers to check they compute the same: query, key, value
                  and output (sdpa); x, the weights in Keras's order weight_0 ... and output
                  (mha, lstm, gru)
  --threads n     threads for kattn's kernels and OpenBLAS (default: every core)
  --iters I       timed runs after 3 warm-up runs (default 10)
  --json          one JSON line: what, shape, threads, isa, gflops, median_ms, min_ms, max_ms
                  (and sgemm_peak_gflops, of_sgemm_peak with sdpa --backward;
                  reference_median_ms, speedup with additive and luong --backward)

KATTN_ISA=reference|portable|avx2|avx512 picks the kernels; the report names the ones that ran.
OpenBLAS picks its own kernels from the CPU model, or from OPENBLAS_CORETYPE (OPENBLAS_VERBOSE=2
names them): OPENBLAS_CORETYPE=SkylakeX gives its AVX-512 ceiling, Haswell its AVX2 one.
)";

int64_t integer(const Arguments& arguments, const std::string& name,
                std::optional<int64_t> fallback = std::nullopt) {
  const std::optional<std::string> text = arguments.value(name);
  if (!text) {
    if (fallback) return *fallback;
    throw UsageError(name + " is required");
  }
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size() || value < 1) {
    throw UsageError(name + " expects a positive integer, received '" + *text + "'");
  }
  return value;
}

Tensor random_tensor(Shape shape, uint64_t seed) {
  Tensor tensor(std::move(shape));
  std::mt19937_64 engine(seed);
  std::normal_distribution<float> normal;
  float* data = tensor.data();
  for (int64_t i = 0; i < tensor.size(); ++i) data[i] = normal(engine);
  return tensor;
}

struct Timing {
  double median_ms = 0, min_ms = 0, max_ms = 0;
};

constexpr int64_t kWarmups = 3;  // runs before the timed ones

Timing time_runs(int64_t iters, const std::function<void()>& body) {
  for (int64_t warmup = 0; warmup < kWarmups; ++warmup) body();
  std::vector<double> ms;
  for (int64_t i = 0; i < iters; ++i) {
    const auto start = std::chrono::steady_clock::now();
    body();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  const size_t n = ms.size();
  return {n % 2 == 1 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2, ms.front(), ms.back()};
}

struct Benchmark {
  std::string shape;  // for the report
  double gflop = 0;   // per run
  std::string isa;    // the kernels that run
  std::function<void()> body;
  bool versus_sgemm_peak = false;  // also measure the sgemm peak and report the ratio
  bool versus_reference = false;   // also time `body` on the reference kernels, report the ratio
  int64_t tokens = 0;              // tokens a run generates (decode): also report tokens/s
  // Writes the inputs and the output as .npy files into a folder (--save), when it can.
  std::function<void(const std::filesystem::path&)> save = nullptr;
};

std::string active_isa() { return kernels::isa_name(kernels::active_isa()); }

Benchmark sdpa_benchmark(const Arguments& a) {
  const int64_t B = integer(a, "--batch"), N = integer(a, "--heads");
  const int64_t K = integer(a, "--kv-heads", N), T = integer(a, "--seq-q");
  const int64_t S = integer(a, "--seq-k"), H = integer(a, "--head-dim");
  const bool causal = a.flag("--causal"), backward = a.flag("--backward");
  if (backward && a.flag("--scores")) throw UsageError("--backward takes no --scores");
  auto query = std::make_shared<Tensor>(random_tensor({B, T, N, H}, 1));
  auto key = std::make_shared<Tensor>(random_tensor({B, S, K, H}, 2));
  auto value = std::make_shared<Tensor>(random_tensor({B, S, K, H}, 3));
  const ops::SdpaOptions options{.scale = 1.0 / std::sqrt(static_cast<double>(H)),
                                 .is_causal = causal,
                                 .return_scores = a.flag("--scores"),
                                 .return_logsumexp = backward};
  const double products = backward ? 5.0 : 2.0;  // of 2*B*N*T*S*H FLOPs each
  const double flop = products * 2.0 * static_cast<double>(B * N * T) * static_cast<double>(S * H);
  Benchmark benchmark{
      std::to_string(B) + "x" + std::to_string(N) + "(" + std::to_string(K) + ")x" +
          std::to_string(T) + "x" + std::to_string(S) + "x" + std::to_string(H) +
          (causal ? " causal" : "") + (options.return_scores ? " scores" : "") +
          (backward ? " backward" : ""),
      (causal ? flop / 2 : flop) / 1e9, active_isa(),
      [=] { (void)ops::scaled_dot_product_attention(*query, *key, *value, options); }, backward};
  benchmark.save = [=](const std::filesystem::path& dir) {
    write_npy(dir / "query.npy", *query);
    write_npy(dir / "key.npy", *key);
    write_npy(dir / "value.npy", *value);
    write_npy(dir / "output.npy",
              ops::scaled_dot_product_attention(*query, *key, *value, options).output);
  };
  if (backward) {
    auto forward = std::make_shared<ops::SdpaResult<float>>(
        ops::scaled_dot_product_attention(*query, *key, *value, options));
    auto d_output = std::make_shared<Tensor>(random_tensor({B, T, N, H}, 4));
    benchmark.body = [=] {
      (void)ops::scaled_dot_product_attention_backward(*query, *key, *value, *forward, *d_output,
                                                       options);
    };
  }
  return benchmark;
}

// AdditiveAttention or Attention (`layer`, not yet built) on (B, T, H) query and (B, S, H) value.
Benchmark dense_attention_benchmark(const Arguments& a, std::shared_ptr<DenseAttention> layer) {
  const int64_t B = integer(a, "--batch"), T = integer(a, "--seq-q");
  const int64_t S = integer(a, "--seq-k"), H = integer(a, "--head-dim");
  const bool backward = a.flag("--backward");
  auto query = std::make_shared<Tensor>(random_tensor({B, T, H}, 1));
  auto value = std::make_shared<Tensor>(random_tensor({B, S, H}, 2));
  layer->build({query->shape(), value->shape()});
  Benchmark benchmark{std::to_string(B) + "x" + std::to_string(T) + "x" + std::to_string(S) + "x" +
                          std::to_string(H) + (backward ? " backward" : ""),
                      4.0 * static_cast<double>(B * T) * static_cast<double>(S * H) / 1e9,
                      active_isa(), [=] { (void)layer->call(*query, *value); }};
  if (backward) {
    auto forward =
        std::make_shared<AttentionForward>(layer->forward({*query, *value}, {.training = true}));
    auto d_output = std::make_shared<Tensor>(random_tensor({B, T, H}, 3));
    benchmark.body = [=] {
      std::vector<Tensor> weight_gradients = layer->zero_gradients();
      (void)layer->backward(*forward, *d_output, weight_gradients);
    };
    benchmark.versus_reference = true;
  }
  return benchmark;
}

// x and the layer's weights in Keras's order, then the output, as .npy files in `dir`.
void save_layer_case(const std::filesystem::path& dir, const Tensor& x, const Layer& layer,
                     const Tensor& output) {
  write_npy(dir / "x.npy", x);
  const std::vector<Tensor> weights = layer.get_weights();
  for (size_t i = 0; i < weights.size(); ++i) {
    write_npy(dir / ("weight_" + std::to_string(i) + ".npy"), weights[i]);
  }
  write_npy(dir / "output.npy", output);
}

Benchmark mha_benchmark(const Arguments& a) {
  const int64_t B = integer(a, "--batch"), T = integer(a, "--seq-q");
  const int64_t E = integer(a, "--embed"), N = integer(a, "--heads");
  if (E % N != 0) throw UsageError("--embed must be a multiple of --heads");
  const bool causal = a.flag("--causal");
  auto layer = std::make_shared<MultiHeadAttention>(
      MultiHeadAttention::Args{.num_heads = N, .key_dim = E / N});
  auto x = std::make_shared<Tensor>(random_tensor({B, T, E}, 1));
  layer->build(x->shape(), x->shape());
  const double bt = static_cast<double>(B * T);
  Benchmark benchmark{std::to_string(B) + "x" + std::to_string(T) + " E=" + std::to_string(E) +
                          " N=" + std::to_string(N) + (causal ? " causal" : ""),
                      (8.0 * bt * static_cast<double>(E * E) +
                       4.0 * bt * static_cast<double>(T * E) * (causal ? 0.5 : 1.0)) /
                          1e9,
                      active_isa(),
                      [=] { (void)layer->call(*x, *x, {.use_causal_mask = causal}); }};
  benchmark.save = [=](const std::filesystem::path& dir) {
    save_layer_case(dir, *x, *layer, layer->call(*x, *x, {.use_causal_mask = causal}).output);
  };
  return benchmark;
}

// LSTM or GRU on random (B, T, F) sequences with random weights (scaled so the gates do not
// saturate), returning the last output.
Benchmark recurrent_benchmark(const Arguments& a, bool lstm) {
  const int64_t B = integer(a, "--batch"), T = integer(a, "--seq-q");
  const int64_t F = integer(a, "--embed"), U = integer(a, "--units");
  std::shared_ptr<RNN> layer;
  if (lstm) {
    layer = std::make_shared<LSTM>(LSTM::Args{.units = U});
  } else {
    layer = std::make_shared<GRU>(GRU::Args{.units = U});
  }
  auto x = std::make_shared<Tensor>(random_tensor({B, T, F}, 1));
  layer->build(x->shape());
  std::vector<Tensor> weights = layer->get_weights();
  for (size_t i = 0; i < weights.size(); ++i) {
    Tensor value = random_tensor(weights[i].shape(), 2 + i);
    const float scale = 1.0f / std::sqrt(static_cast<float>(std::max<int64_t>(1, value.dim(0))));
    for (int64_t k = 0; k < value.size(); ++k) value.data()[k] *= scale;
    weights[i] = value;
  }
  layer->set_weights(weights);
  const double gates = lstm ? 4.0 : 3.0;
  Benchmark benchmark{
      std::to_string(B) + "x" + std::to_string(T) + " F=" + std::to_string(F) +
          " U=" + std::to_string(U),
      2.0 * gates * static_cast<double>(B * T) * static_cast<double>((F + U) * U) / 1e9,
      active_isa(), [=] { (void)layer->call(*x); }};
  benchmark.save = [=](const std::filesystem::path& dir) {
    save_layer_case(dir, *x, *layer, layer->call(*x).output);
  };
  return benchmark;
}

CacheDtype cache_dtype(const std::optional<std::string>& name) {
  for (const CacheDtype dtype :
       {CacheDtype::kFloat32, CacheDtype::kFloat16, CacheDtype::kBFloat16}) {
    if (name.value_or("float32") == cache_dtype_name(dtype)) return dtype;
  }
  throw UsageError("--cache-dtype must be float32, float16 or bfloat16, not '" + *name + "'");
}

Benchmark decode_benchmark(const Arguments& a, int64_t iters) {
  const int64_t B = integer(a, "--batch"), C = integer(a, "--context");
  const int64_t E = integer(a, "--embed"), N = integer(a, "--heads");
  const int64_t K = integer(a, "--kv-heads", N);
  if (E % N != 0) throw UsageError("--embed must be a multiple of --heads");
  if (N % K != 0) throw UsageError("--heads must be a multiple of --kv-heads");
  const int64_t H = E / N;
  std::shared_ptr<ProjectedAttention> layer;
  if (a.value("--kv-heads")) {
    layer = std::make_shared<GroupedQueryAttention>(
        GroupedQueryAttention::Args{.head_dim = H, .num_query_heads = N, .num_key_value_heads = K});
  } else {
    layer = std::make_shared<MultiHeadAttention>(
        MultiHeadAttention::Args{.num_heads = N, .key_dim = H});
  }
  auto token = std::make_shared<Tensor>(random_tensor({B, 1, E}, 1));
  layer->build(token->shape(), token->shape());
  // The context: C positions of random keys and values, then room for every timed step.
  auto cache = std::make_shared<KVCache>(
      layer->make_cache(B, C + kWarmups + iters, cache_dtype(a.value("--cache-dtype"))));
  cache->append(random_tensor({B, C, K, H}, 2), random_tensor({B, C, K, H}, 3));
  const double b = static_cast<double>(B), e = static_cast<double>(E);
  Benchmark benchmark{
      std::to_string(B) + "x" + std::to_string(N) + "(" + std::to_string(K) + ") context " +
          std::to_string(C) + " E=" + std::to_string(E) + " " + cache_dtype_name(cache->dtype()),
      (2.0 * b * e * e * (2.0 + 2.0 * static_cast<double>(K) / static_cast<double>(N)) +
       4.0 * b * static_cast<double>(C) * e) /
          1e9,
      active_isa(),
      [=] { (void)layer->call_cached(*token, *token, *cache, {.use_causal_mask = true}); }};
  benchmark.tokens = B;
  return benchmark;
}

Benchmark sgemm_benchmark(const Arguments& a) {
  const int64_t M = integer(a, "--size");
  auto left = std::make_shared<Tensor>(random_tensor({M, M}, 1));
  auto right = std::make_shared<Tensor>(random_tensor({M, M}, 2));
  auto out = std::make_shared<Tensor>(Shape{M, M});
  const auto m = static_cast<blasint>(M);
  return {std::to_string(M) + "x" + std::to_string(M),
          2.0 * std::pow(static_cast<double>(M), 3) / 1e9, "openblas", [=] {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.0f, left->data(), m,
                        right->data(), m, 0.0f, out->data(), m);
          }};
}

Benchmark fma_benchmark(int64_t threads) {
  const FmaProbe probe = widest_fma_probe();
  return {std::to_string(threads) + " copies", static_cast<double>(probe.flop * threads) / 1e9,
          probe.vectors, [=] {
            std::vector<float> sums(static_cast<size_t>(threads));
            std::vector<std::thread> copies;
            for (size_t copy = 0; copy < sums.size(); ++copy) {
              copies.emplace_back(
                  [&sums, copy, run = probe.run] { sums[copy] = run(static_cast<float>(copy)); });
            }
            for (std::thread& copy : copies) copy.join();
          }};
}

}  // namespace

int run_bench(const std::vector<std::string>& args) {
  const Arguments arguments(
      args,
      {"--batch", "--heads", "--kv-heads", "--seq-q", "--seq-k", "--head-dim", "--embed",
       "--context", "--cache-dtype", "--units", "--size", "--threads", "--iters", "--save"},
      {"--causal", "--scores", "--backward", "--json", "--help"});
  if (arguments.wants_help()) {
    std::cout << kHelp;
    return 0;
  }
  if (arguments.positionals().size() != 1) {
    throw UsageError("expected one of sdpa, additive, luong, mha, decode, lstm, gru, sgemm, fma");
  }
  const std::string what = arguments.positionals()[0];
  const int64_t threads = integer(arguments, "--threads", hardware_threads());
  const int64_t iters = integer(arguments, "--iters", 10);
  const ScopedNumThreads scope(threads);
  openblas_set_num_threads(static_cast<int>(threads));

  Benchmark benchmark;
  if (what == "sdpa") {
    benchmark = sdpa_benchmark(arguments);
  } else if (what == "additive") {
    benchmark = dense_attention_benchmark(arguments, std::make_shared<AdditiveAttention>());
  } else if (what == "luong") {
    benchmark = dense_attention_benchmark(
        arguments, std::make_shared<Attention>(Attention::Args{.use_scale = true}));
  } else if (what == "mha") {
    benchmark = mha_benchmark(arguments);
  } else if (what == "decode") {
    benchmark = decode_benchmark(arguments, iters);
  } else if (what == "lstm" || what == "gru") {
    benchmark = recurrent_benchmark(arguments, what == "lstm");
  } else if (what == "sgemm") {
    benchmark = sgemm_benchmark(arguments);
  } else if (what == "fma") {
    benchmark = fma_benchmark(threads);
  } else {
    throw UsageError("unknown benchmark '" + what +
                     "': expected sdpa, additive, luong, mha, decode, lstm, gru, sgemm or fma");
  }
  if (const std::optional<std::string> dir = arguments.value("--save")) {
    if (!benchmark.save) throw UsageError("--save goes with sdpa, mha, lstm and gru");
    std::filesystem::create_directories(*dir);
    benchmark.save(*dir);
  }
  const Timing timing = time_runs(iters, benchmark.body);
  const double gflops = benchmark.gflop / (timing.median_ms / 1e3);
  // The ceiling, measured right after on the same threads: the machine drifts over minutes.
  double peak = 0;
  if (benchmark.versus_sgemm_peak) {
    for (const char* size : {"512", "1024", "2048"}) {
      const Benchmark sgemm = sgemm_benchmark(Arguments({"--size", size}, {"--size"}, {}));
      peak = std::max(peak, sgemm.gflop / (time_runs(iters, sgemm.body).median_ms / 1e3));
    }
  }
  // The reference kernels' time, in the same run for the same reason.
  Timing reference;
  if (benchmark.versus_reference) {
    const kernels::ScopedIsa scoped(kernels::Isa::kReference);
    reference = time_runs(iters, benchmark.body);
  }
  const char* isa = benchmark.isa.c_str();
  char line[640];
  if (arguments.flag("--json")) {
    char ratio[128] = "";
    if (benchmark.versus_sgemm_peak) {
      std::snprintf(ratio, sizeof ratio, ", \"sgemm_peak_gflops\": %.3f, \"of_sgemm_peak\": %.4f",
                    peak, gflops / peak);
    }
    if (benchmark.versus_reference) {
      std::snprintf(ratio, sizeof ratio, ", \"reference_median_ms\": %.4f, \"speedup\": %.3f",
                    reference.median_ms, reference.median_ms / timing.median_ms);
    }
    if (benchmark.tokens > 0) {
      std::snprintf(ratio, sizeof ratio, ", \"tokens_per_s\": %.1f",
                    static_cast<double>(benchmark.tokens) / (timing.median_ms / 1e3));
    }
    std::snprintf(line, sizeof line,
                  "{\"what\": \"%s\", \"shape\": \"%s\", \"threads\": %lld, \"isa\": \"%s\", "
                  "\"gflops\": %.3f, \"median_ms\": %.4f, \"min_ms\": %.4f, \"max_ms\": %.4f%s}\n",
                  what.c_str(), benchmark.shape.c_str(), static_cast<long long>(threads), isa,
                  gflops, timing.median_ms, timing.min_ms, timing.max_ms, ratio);
  } else {
    std::snprintf(line, sizeof line,
                  "%s %s, %lld thread(s), %s: %.2f GFLOP/s, median %.3f ms (min %.3f, max %.3f) "
                  "over %lld runs\n",
                  what.c_str(), benchmark.shape.c_str(), static_cast<long long>(threads), isa,
                  gflops, timing.median_ms, timing.min_ms, timing.max_ms,
                  static_cast<long long>(iters));
  }
  std::cout << line;
  if (benchmark.versus_sgemm_peak && !arguments.flag("--json")) {
    std::snprintf(line, sizeof line,
                  "  %.3f of the same-run sgemm peak, %.2f GFLOP/s (OpenBLAS, best of M = 512, "
                  "1024, 2048)\n",
                  gflops / peak, peak);
    std::cout << line;
  }
  if (benchmark.tokens > 0 && !arguments.flag("--json")) {
    std::snprintf(line, sizeof line, "  %.1f tokens per second\n",
                  static_cast<double>(benchmark.tokens) / (timing.median_ms / 1e3));
    std::cout << line;
  }
  if (benchmark.versus_reference && !arguments.flag("--json")) {
    std::snprintf(line, sizeof line,
                  "  %.2f times faster than the same-run reference backward, median %.3f ms "
                  "(min %.3f, max %.3f)\n",
                  reference.median_ms / timing.median_ms, reference.median_ms, reference.min_ms,
                  reference.max_ms);
    std::cout << line;
  }
  return 0;
}

}  // namespace kattn::cli
