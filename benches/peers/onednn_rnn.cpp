// oneDNN 2.6's RNN primitives as a peer of `kattn bench lstm|gru`, run on the inputs and the
// Keras-layout weights that `kattn bench lstm|gru --save DIR` wrote (x (B, T, F), weight_0 the
// kernel (F, G U), weight_1 the recurrent kernel (U, G U), weight_2 the bias), for inference.
// LSTM is oneDNN's vanilla_lstm: its gate order i, f, c~, o is Keras's i, f, c, o, so Keras's
// kernels are oneDNN's ldigo as they are. GRU is lbr_gru (linear before reset), which is Keras's
// reset_after=True: gates u, r, o are Keras's z, r, h; its bias (4, U) in order u, r, o, u' takes
// the input and recurrent biases summed for u and r, the input bias of h as o and the recurrent
// bias of h as u' (the one multiplied by r). Every layout is oneDNN's choice (format_tag::any);
// the weights, the input and the output are reordered once, outside the timed loop. The last
// step's h is checked against kattn's output (output.npy, (B, U)) before anything is timed: the
// program exits 2 when they differ by more than 1e-3. Then RUNS calls are timed after 3 warm-up
// calls, and one CSV row in ../shared/bench's format goes to stdout (suite, impl, threads, B,
// H = 1, Tq = Tv = T, d = U, causal = 0, pass, flops, median_s, min_s, max_s, reps, RSS before
// and peak in MiB, other processes' CPU use in cores, extra). Debian's libdnnl runs on OpenMP:
// THREADS sets its thread count (run it with OMP_NUM_THREADS=THREADS as well).
//
// usage: onednn_rnn lstm|gru DIR THREADS [RUNS]
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

namespace {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

// A little-endian float32, C-order .npy file.
struct Array {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

Array load_npy(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) {
    throw std::runtime_error(path + ": not an .npy file");
  }
  const auto byte = [&](size_t i) { return static_cast<size_t>(static_cast<uint8_t>(bytes[i])); };
  const bool version1 = bytes[6] == 1;
  const size_t begin = version1 ? 10 : 12;
  const size_t length =
      version1 ? byte(8) | byte(9) << 8 : byte(8) | byte(9) << 8 | byte(10) << 16 | byte(11) << 24;
  const std::string header = bytes.substr(begin, length);
  if (header.find("'<f4'") == std::string::npos ||
      header.find("'fortran_order': False") == std::string::npos) {
    throw std::runtime_error(path + ": expected little-endian float32 in C order: " + header);
  }
  Array array;
  size_t at = header.find('(', header.find("'shape'")) + 1;
  int64_t count = 1;
  while (at < header.size() && header[at] != ')') {
    char* end = nullptr;
    const long long dim = std::strtoll(header.c_str() + at, &end, 10);
    if (end == header.c_str() + at) break;
    array.shape.push_back(dim);
    count *= dim;
    at = static_cast<size_t>(end - header.c_str());
    while (at < header.size() && (header[at] == ',' || header[at] == ' ')) ++at;
  }
  if (bytes.size() < begin + length + static_cast<size_t>(count) * sizeof(float)) {
    throw std::runtime_error(path + ": shorter than its shape says");
  }
  array.data.resize(static_cast<size_t>(count));
  std::copy_n(bytes.data() + begin + length, array.data.size() * sizeof(float),
              reinterpret_cast<char*>(array.data.data()));
  return array;
}

void expect_shape(const Array& array, const std::vector<int64_t>& shape, const char* name) {
  if (array.shape != shape) {
    std::string text;
    for (int64_t dim : array.shape) text += std::to_string(dim) + " ";
    throw std::runtime_error(std::string(name) + ": unexpected shape ( " + text + ")");
  }
}

double proc_status_mib(const char* key) {  // "VmRSS:   1234 kB" in /proc/self/status
  std::ifstream file("/proc/self/status");
  const std::string prefix = std::string(key) + ":";
  for (std::string line; std::getline(file, line);) {
    if (line.compare(0, prefix.size(), prefix) == 0) {
      return std::atof(line.c_str() + prefix.size()) / 1024.0;
    }
  }
  return -1.0;
}

// CPU time of the whole machine (user, nice, system, irq, softirq, steal) and of this process,
// in clock ticks: their difference over the timed loop is other processes' load on it.
double machine_ticks() {
  std::ifstream file("/proc/stat");
  std::string cpu;
  double value[8] = {};
  file >> cpu;
  for (double& v : value) file >> v;
  return value[0] + value[1] + value[2] + value[5] + value[6] + value[7];
}

double own_ticks() {
  std::ifstream file("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  size_t at = text.rfind(')') + 2;  // field 3 starts here; utime and stime are 14 and 15
  double ticks = 0;
  for (int field = 3; field <= 15 && at < text.size(); ++field) {
    if (field >= 14) ticks += std::atof(text.c_str() + at);
    at = text.find(' ', at) + 1;
  }
  return ticks;
}

double seconds_now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 4 || (std::string(argv[1]) != "lstm" && std::string(argv[1]) != "gru")) {
    std::fprintf(stderr, "usage: onednn_rnn lstm|gru DIR THREADS [RUNS]\n");
    return 2;
  }
  const bool lstm = std::string(argv[1]) == "lstm";
  const std::string dir = argv[2];
  const int threads = std::atoi(argv[3]);
  const int runs = argc > 4 ? std::max(1, std::atoi(argv[4])) : 10;
  omp_set_num_threads(threads);

  const Array x = load_npy(dir + "/x.npy"), kernel = load_npy(dir + "/weight_0.npy");
  const Array recurrent = load_npy(dir + "/weight_1.npy"), bias = load_npy(dir + "/weight_2.npy");
  const Array expected = load_npy(dir + "/output.npy");
  if (x.shape.size() != 3 || recurrent.shape.size() != 2) {
    throw std::runtime_error("expected x (B, T, F) and recurrent kernel (U, G U)");
  }
  const int64_t B = x.shape[0], T = x.shape[1], F = x.shape[2], U = recurrent.shape[0];
  const int64_t G = lstm ? 4 : 3;
  expect_shape(kernel, {F, G * U}, "weight_0");
  expect_shape(recurrent, {U, G * U}, "weight_1");
  expect_shape(bias, lstm ? std::vector<int64_t>{G * U} : std::vector<int64_t>{2, G * U},
               "weight_2 (a GRU with reset_after=True has a (2, 3 U) bias)");
  expect_shape(expected, {B, U}, "output");

  // Keras's bias as oneDNN's (1, 1, gates, U): lbr_gru has a fourth gate, u'.
  std::vector<float> gate_bias = bias.data;
  if (!lstm) {
    gate_bias.assign(static_cast<size_t>(4 * U), 0.f);
    for (int64_t k = 0; k < U; ++k) {
      for (int64_t gate = 0; gate < 2; ++gate) {  // u, r: input and recurrent biases summed
        gate_bias[gate * U + k] = bias.data[gate * U + k] + bias.data[G * U + gate * U + k];
      }
      gate_bias[2 * U + k] = bias.data[2 * U + k];          // o: the input bias of h
      gate_bias[3 * U + k] = bias.data[G * U + 2 * U + k];  // u': the recurrent bias of h
    }
  }

  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const memory::dims src_dims{T, B, F}, weights_layer_dims{1, 1, F, G, U};
  const memory::dims weights_iter_dims{1, 1, U, G, U}, bias_dims{1, 1, lstm ? G : G + 1, U};
  const memory::dims dst_dims{T, B, U};
  const auto any = [](const memory::dims& dims) { return memory::desc(dims, dt::f32, tag::any); };
  const auto direction = dnnl::rnn_direction::unidirectional_left2right;
  const auto inference = dnnl::prop_kind::forward_inference;
  const memory::desc none;  // h0 = 0 and c0 = 0, as in Keras without initial_state; no h_T
  dnnl::primitive_desc_base pd;
  dnnl::primitive rnn;
  if (lstm) {
    dnnl::lstm_forward::primitive_desc lstm_pd(
        dnnl::lstm_forward::desc(inference, direction, any(src_dims), none, none,
                                 any(weights_layer_dims), any(weights_iter_dims), any(bias_dims),
                                 any(dst_dims), none, none),
        engine);
    rnn = dnnl::lstm_forward(lstm_pd);
    pd = lstm_pd;
  } else {
    dnnl::lbr_gru_forward::primitive_desc gru_pd(
        dnnl::lbr_gru_forward::desc(inference, direction, any(src_dims), none,
                                    any(weights_layer_dims), any(weights_iter_dims), any(bias_dims),
                                    any(dst_dims), none),
        engine);
    rnn = dnnl::lbr_gru_forward(gru_pd);
    pd = gru_pd;
  }

  // The user's layouts: x (B, T, F) is ntc; a Keras kernel (F, G U) is ldigo with L = D = 1.
  const auto user = [&](const memory::dims& dims, tag layout, const float* data) {
    memory m(memory::desc(dims, dt::f32, layout), engine);
    if (data) {
      std::copy_n(data, m.get_desc().get_size() / sizeof(float),
                  static_cast<float*>(m.get_data_handle()));
    }
    return m;
  };
  const auto reordered = [&](memory from, const memory::desc& to) {
    memory m(to, engine);
    dnnl::reorder(from, m).execute(stream, from, m);
    stream.wait();
    return m;
  };
  const double rss_base = proc_status_mib("VmRSS");
  memory src = reordered(user(src_dims, tag::ntc, x.data.data()),
                         pd.query_md(dnnl::query::exec_arg_md, DNNL_ARG_SRC_LAYER));
  memory weights_layer = reordered(user(weights_layer_dims, tag::ldigo, kernel.data.data()),
                                   pd.query_md(dnnl::query::exec_arg_md, DNNL_ARG_WEIGHTS_LAYER));
  memory weights_iter = reordered(user(weights_iter_dims, tag::ldigo, recurrent.data.data()),
                                  pd.query_md(dnnl::query::exec_arg_md, DNNL_ARG_WEIGHTS_ITER));
  memory bias_memory = reordered(user(bias_dims, tag::ldgo, gate_bias.data()),
                                 pd.query_md(dnnl::query::exec_arg_md, DNNL_ARG_BIAS));
  memory dst(pd.query_md(dnnl::query::exec_arg_md, DNNL_ARG_DST_LAYER), engine);
  const auto call = [&] {
    rnn.execute(stream, {{DNNL_ARG_SRC_LAYER, src},
                         {DNNL_ARG_WEIGHTS_LAYER, weights_layer},
                         {DNNL_ARG_WEIGHTS_ITER, weights_iter},
                         {DNNL_ARG_BIAS, bias_memory},
                         {DNNL_ARG_DST_LAYER, dst}});
    stream.wait();
  };

  call();
  memory sequence = user(dst_dims, tag::tnc, nullptr);
  dnnl::reorder(dst, sequence).execute(stream, dst, sequence);
  stream.wait();
  const float* last = static_cast<const float*>(sequence.get_data_handle()) + (T - 1) * B * U;
  double error = 0;
  for (int64_t k = 0; k < B * U; ++k) {
    error = std::max(error, static_cast<double>(std::fabs(last[k] - expected.data[k])));
  }
  if (!(error <= 1e-3)) {
    std::fprintf(stderr, "oneDNN's %s computes something else than kattn: max |difference| %.3g\n",
                 lstm ? "LSTM" : "GRU", error);
    return 2;
  }

  for (int i = 0; i < 3; ++i) call();
  std::vector<double> times;
  const double machine0 = machine_ticks(), own0 = own_ticks(), start = seconds_now();
  for (int i = 0; i < runs; ++i) {
    const double begin = seconds_now();
    call();
    times.push_back(seconds_now() - begin);
  }
  const double elapsed = seconds_now() - start;
  const double foreign = ((machine_ticks() - machine0) - (own_ticks() - own0)) /
                         static_cast<double>(sysconf(_SC_CLK_TCK)) / elapsed;
  std::sort(times.begin(), times.end());
  const size_t n = times.size();
  const double median = n % 2 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
  const double flops = 2.0 * static_cast<double>(G * B * T * (F + U) * U);
  std::printf(
      "%s,onednn_%s,%d,%ld,1,%ld,%ld,%ld,0,fwd,%.6g,%.6e,%.6e,%.6e,%d,%.1f,%.1f,%.3f,"
      "F=%ld;max_abs_error=%.3g;GFLOPs=%.2f;impl=%s\n",
      lstm ? "lstm" : "gru", lstm ? "lstm" : "lbr_gru", threads, static_cast<long>(B),
      static_cast<long>(T), static_cast<long>(T), static_cast<long>(U), flops, median,
      times.front(), times.back(), runs, rss_base, proc_status_mib("VmHWM"), std::max(0.0, foreign),
      static_cast<long>(F), error, flops / median / 1e9, pd.impl_info_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "onednn_rnn: %s\n", e.what());
  return 1;
}
