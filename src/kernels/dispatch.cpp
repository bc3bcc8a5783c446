#include "kernels/dispatch.hpp"

#if defined(KATTN_HAVE_AVX2_KERNELS) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

#include "kattn/core/error.hpp"

namespace kattn::kernels {

namespace {

constexpr ErrorSource kSource{"KATTN_ISA", ""};

thread_local int forced_isa = -1;  // -1: none; else an Isa

constexpr Isa kEveryIsa[] = {Isa::kReference, Isa::kPortable, Isa::kAvx2, Isa::kAvx512};

#if defined(KATTN_HAVE_AVX2_KERNELS) && (defined(__GNUC__) || defined(__clang__))
// F16C, from CPUID leaf 1 (ECX bit 29): clang 14's __builtin_cpu_supports has no "f16c".
bool cpu_has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
}
#endif

void check_runnable(Isa isa) {
  if (!cpu_runs(isa)) {
    throw NotSupportedError(
        error_message(kSource, std::string("this CPU cannot run the ") + isa_name(isa) + " kernels",
                      "reference, portable or an instruction set it has", isa_name(isa)));
  }
}

// The best the CPU has (natively: emulated AVX-512 runs only when asked for).
Isa best_isa() {
#ifndef KATTN_AVX512_EMULATED
  if (cpu_has_avx512()) return Isa::kAvx512;
#endif
  return cpu_has_avx2() ? Isa::kAvx2 : Isa::kPortable;
}

// The environment's choice, read and checked on first use.
Isa environment_isa() {
  static const std::optional<Isa> isa = []() -> std::optional<Isa> {
    const char* text = std::getenv("KATTN_ISA");
    if (text == nullptr || *text == '\0') return best_isa();
    for (Isa candidate : kEveryIsa) {
      if (std::string_view(text) == isa_name(candidate)) return candidate;
    }
    return std::nullopt;
  }();
  if (!isa) {
    throw NotSupportedError(error_message(kSource, "unknown instruction set",
                                          "one of reference, portable, avx2, avx512",
                                          std::string("KATTN_ISA=") + std::getenv("KATTN_ISA")));
  }
  check_runnable(*isa);
  return *isa;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kReference:
      return "reference";
    case Isa::kPortable:
      return "portable";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
  }
  return "unknown";
}

bool cpu_has_avx2() {
#if defined(KATTN_HAVE_AVX2_KERNELS) && (defined(__GNUC__) || defined(__clang__))
  static const bool has =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
  return has;
#else
  return false;
#endif
}

bool cpu_has_avx512() {
#if defined(KATTN_HAVE_AVX512_KERNELS) && (defined(__GNUC__) || defined(__clang__))
#ifdef KATTN_AVX512_EMULATED
  static const bool has = cpu_has_avx2();  // SIMDe's AVX-512 runs on the AVX2 set
#else
  static const bool has = cpu_has_avx2() && __builtin_cpu_supports("avx512f");
#endif
  return has;
#else
  return false;
#endif
}

bool cpu_runs(Isa isa) {
  switch (isa) {
    case Isa::kAvx2:
      return cpu_has_avx2();
    case Isa::kAvx512:
      return cpu_has_avx512();
    default:
      return true;
  }
}

Isa active_isa() { return forced_isa >= 0 ? static_cast<Isa>(forced_isa) : environment_isa(); }

ScopedIsa::ScopedIsa(Isa isa) : previous_(forced_isa) {
  check_runnable(isa);
  forced_isa = static_cast<int>(isa);
}

ScopedIsa::~ScopedIsa() { forced_isa = previous_; }

bool kernel_reports_enabled() {
  static const bool verbose = [] {
    const char* text = std::getenv("KATTN_VERBOSE");
    return text != nullptr && std::strcmp(text, "0") != 0 && *text != '\0';
  }();
  return verbose;
}

void write_kernel_report(const char* op, Isa isa, int64_t threads, const std::string& what) {
  std::fprintf(stderr, "kattn: %s ran %s on %lld thread(s) (%s)\n", op, isa_name(isa),
               static_cast<long long>(threads), what.c_str());
}

}  // namespace kattn::kernels
