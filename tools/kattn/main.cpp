// kattn: inspect, run, check and benchmark Keras attention layers from the command line.
#include <cblas.h>

#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "command_line.hpp"
#include "kattn/core/error.hpp"
#include "kattn/core/keras_version.hpp"
#include "kernels/dispatch.hpp"

namespace {

constexpr const char* kUsage = R"(usage: kattn <verb> [arguments]
       kattn --version

verbs:
  inspect MODEL    the layers, parameters, inputs and outputs of a .keras or Keras 2 .h5 model
  predict MODEL    run a .keras or .h5 model on .npy inputs and write its outputs as .npy files
  convert IN OUT   write a Keras 2 .h5 model as the Keras 3 .keras file of the same model
  verify PATH...   run Keras golden cases and compare with what Keras computed
  bench WHAT       time the attention op, AdditiveAttention, MultiHeadAttention or sgemm
  demo [MODEL]     a worked example of Attention, AdditiveAttention and concat scoring, then
                   a Keras-saved attention model run next to what Keras computed

'kattn <verb> --help' describes a verb. 'kattn --version' prints the library's version, the
Keras release whose behaviour models follow, and the kernels in use.
)";

// The library's version; the Keras release models follow unless their file names another; the
// instruction set of kattn's kernels (KATTN_ISA chooses another); OpenBLAS's build and the
// kernels it runs (OPENBLAS_CORETYPE chooses others).
void print_version() {
  std::cout << "kattn " << KATTN_VERSION << "\n"
            << "Keras " << kattn::kKerasVersion.to_string() << "\n"
            << "kernels: " << kattn::kernels::isa_name(kattn::kernels::active_isa()) << "\n"
            << "OpenBLAS: " << openblas_get_config() << ", kernels " << openblas_get_corename()
            << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    (args.empty() ? std::cerr : std::cout) << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    print_version();
    return 0;
  }
  const std::string verb = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    if (verb == "verify") return kattn::cli::run_verify(rest);
    if (verb == "demo") return kattn::cli::run_demo(rest);
    if (verb == "inspect") return kattn::cli::run_inspect(rest);
    if (verb == "predict") return kattn::cli::run_predict(rest);
    if (verb == "bench") return kattn::cli::run_bench(rest);
    if (verb == "convert") return kattn::cli::run_convert(rest);
    std::cerr << "kattn: unknown verb '" << verb << "'\n\n" << kUsage;
    return 2;
  } catch (const kattn::cli::UsageError& e) {
    std::cerr << "kattn " << verb << ": " << e.what() << "\n(see 'kattn " << verb << " --help')\n";
    return 2;
  } catch (const kattn::Error& e) {
    std::cerr << "kattn " << verb << ": " << e.what() << "\n";
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "kattn " << verb << ": out of memory\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "kattn " << verb << ": " << e.what() << "\n";
    return 2;
  }
}
