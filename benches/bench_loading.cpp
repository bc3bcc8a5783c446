// Loading hostile and large files: time to read a weights file of many groups, and the peak
// memory of load_model against the weights its config declares (each measured in a child
// process, whose peak resident size is its own). Counters:
//   groups            HDF5 groups read per iteration
//   declared_MiB      the weights file's size: what config.json's weights take, with their
//                     optimizer slots for a compiled model
//   peak_MiB          the child's peak resident memory, less what it held before loading
//   peak_per_declared peak_MiB / declared_MiB (at most 2, plus 64 MiB, is the aim)
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "kattn/io/weight_store.hpp"
#include "kattn/io/zip_archive.hpp"
#include "kattn/layers/dense.hpp"
#include "kattn/layers/embedding.hpp"
#include "kattn/layers/pooling.hpp"
#include "kattn/models/input.hpp"
#include "kattn/models/layer_ref.hpp"
#include "kattn/models/model.hpp"
#include "kattn/training/losses.hpp"
#include "kattn/training/optimizers.hpp"

namespace kattn {
namespace {

// A weights file of `count` sibling groups under layers/, each with a `name` attribute, as a
// hostile file may hold.
const std::string& many_groups_image(int64_t count) {
  static std::string image;
  if (image.empty()) {
    WeightStore store;
    store.add_group("layers");
    for (int64_t i = 0; i < count; ++i) store.add_group("layers/g" + std::to_string(i), "g");
    image = weights_h5_bytes(store);
  }
  return image;
}

void BM_ReadWeightsFileOfManyGroups(benchmark::State& state) {
  const std::string& image = many_groups_image(state.range(0));
  for (auto _ : state) {
    const WeightStore store =
        parse_weights_h5(std::as_bytes(std::span(image.data(), image.size())), "groups.h5");
    benchmark::DoNotOptimize(store.groups().size());
  }
  state.counters["groups"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_ReadWeightsFileOfManyGroups)
    ->Arg(250'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

double resident_mib() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1048576.0;
}

// Loads `path` in a child process; its peak resident memory beyond where it started, in MiB.
double peak_load_mib(const std::filesystem::path& path) {
  int pipe_ends[2];
  if (pipe(pipe_ends) != 0) return -1;
  const pid_t child = fork();
  if (child == 0) {
    close(pipe_ends[0]);
    const double before = resident_mib();
    double peak = -1;
    try {
      const Model model = load_model(path);
      rusage usage{};
      getrusage(RUSAGE_SELF, &usage);
      peak = static_cast<double>(usage.ru_maxrss) / 1024.0 - before;
    } catch (const Error& e) {
      std::fprintf(stderr, "%s\n", e.what());
      rusage usage{};
      getrusage(RUSAGE_SELF, &usage);
      peak = static_cast<double>(usage.ru_maxrss) / 1024.0 - before;
    }
    [[maybe_unused]] const ssize_t written = write(pipe_ends[1], &peak, sizeof(peak));
    _exit(0);
  }
  close(pipe_ends[1]);
  double peak = -1;
  [[maybe_unused]] const ssize_t got = read(pipe_ends[0], &peak, sizeof(peak));
  close(pipe_ends[0]);
  waitpid(child, nullptr, 0);
  return peak;
}

// ids (B, 4) -> Embedding(vocabulary, 64) -> pooled -> Dense(1): the embedding holds the weights.
Model embedding_model(int64_t vocabulary) {
  auto ids = Input({.shape = {4}, .dtype = DType::kInt32, .name = "ids"});
  KerasTensor x =
      make_layer<Embedding>({.input_dim = vocabulary, .output_dim = 64, .name = "embed"})(ids);
  x = make_layer<GlobalAveragePooling1D>({.name = "pool"})(x);
  x = make_layer<Dense>({.units = 1, .name = "out"})(x);
  return Model(ids, x, "embedder");
}

// Arg 0: the embedding's vocabulary (64 values of 4 bytes each); arg 1: compiled with Adam and
// trained one step, so that the file holds the optimizer's two slots too.
void BM_LoadModelPeakMemory(benchmark::State& state) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / "kattn_bench_loading.keras";
  {
    Model model = embedding_model(state.range(0));
    if (state.range(1) != 0) {
      model.compile({.optimizer = std::make_shared<Adam>(Adam::Args{}),
                     .loss = std::make_shared<MeanSquaredError>()});
      model.train_on_batch({Int32Tensor({2, 4})}, {Tensor({2, 1})});
    }
    save_model(model, path);
  }
  const double declared = static_cast<double>(ZipReader::open(path).members()[2].size) / 1048576.0;
  double peak = 0;
  for (auto _ : state) peak = peak_load_mib(path);
  std::filesystem::remove(path);
  state.counters["declared_MiB"] = declared;
  state.counters["peak_MiB"] = peak;
  state.counters["peak_per_declared"] = peak / declared;
}
BENCHMARK(BM_LoadModelPeakMemory)
    ->Args({1 << 20, 0})  // 256 MiB of weights
    ->Args({1 << 18, 1})  // 64 MiB, with Adam's two slots: 192 MiB
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// A weights member that inflates to 1 GiB for a model of a few values: refused on its declared
// size, before anything is inflated.
void BM_LoadWeightsBombPeakMemory(benchmark::State& state) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / "kattn_bench_bomb.keras";
  {
    const std::filesystem::path small = path.string() + ".small";
    save_model(embedding_model(8), small);
    const ZipReader original = ZipReader::open(small);
    std::string weights = original.read("model.weights.h5");
    weights.resize(size_t{1} << 30, '\0');
    const std::vector<ZipEntry> entries = {
        {"metadata.json", original.read("metadata.json"), ZipCompression::kStored},
        {"config.json", original.read("config.json"), ZipCompression::kStored},
        {"model.weights.h5", std::move(weights), ZipCompression::kDeflated}};
    write_zip(path, entries);
    std::filesystem::remove(small);
  }
  double peak = 0;
  for (auto _ : state) peak = peak_load_mib(path);
  state.counters["file_MiB"] = static_cast<double>(std::filesystem::file_size(path)) / 1048576.0;
  state.counters["peak_MiB"] = peak;
  std::filesystem::remove(path);
}
BENCHMARK(BM_LoadWeightsBombPeakMemory)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace kattn

BENCHMARK_MAIN();
