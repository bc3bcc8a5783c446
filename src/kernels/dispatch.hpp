// Which instruction set the kernels run with: chosen once per process from the CPU, or forced
// with the environment variable KATTN_ISA=reference|portable|avx2|avx512. KATTN_VERBOSE=1 makes
// every kernel call say on stderr which one ran.
#pragma once

#include <cstdint>
#include <string>

namespace kattn::kernels {

enum class Isa {
  kReference,  // the specification: plain loops, materialised logits
  kPortable,   // the fused kernels in plain C++
  kAvx2,       // the fused kernels with AVX2 + FMA (+ F16C for half-precision caches)
  kAvx512,     // the fused kernels with AVX-512F
};

const char* isa_name(Isa isa);

// Whether this CPU (and this build) can run the AVX2 + FMA + F16C kernels, the AVX-512F ones
// (in a KATTN_EMULATE_AVX512 build: their emulation, wherever the AVX2 set runs).
bool cpu_has_avx2();
bool cpu_has_avx512();

// Whether this CPU (and this build) can run `isa`'s kernels.
bool cpu_runs(Isa isa);

// The ISA calls on this thread use: a ScopedIsa's, else KATTN_ISA's, else the best the CPU has.
// NotSupportedError when KATTN_ISA names something unknown or something this CPU cannot run.
Isa active_isa();

// Forces an ISA for calls made on the constructing thread until destroyed (tests sweep every
// path in one process with it). NotSupportedError when the CPU cannot run `isa`.
class ScopedIsa {
 public:
  explicit ScopedIsa(Isa isa);
  ~ScopedIsa();
  ScopedIsa(const ScopedIsa&) = delete;
  ScopedIsa& operator=(const ScopedIsa&) = delete;

 private:
  int previous_;
};

// Whether KATTN_VERBOSE asks for a line per kernel call.
bool kernel_reports_enabled();

// With KATTN_VERBOSE=1, writes "kattn: <op> ran <isa> on <threads> thread(s) (<describe()>)" to
// stderr; `describe` runs only then.
void write_kernel_report(const char* op, Isa isa, int64_t threads, const std::string& what);
template <typename Describe>
void report_kernel(const char* op, Isa isa, int64_t threads, const Describe& describe) {
  if (kernel_reports_enabled()) write_kernel_report(op, isa, threads, describe());
}

}  // namespace kattn::kernels
