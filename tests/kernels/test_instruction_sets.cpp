// Every instruction set kattn has kernels for, one test each: on a CPU (or a build) without it,
// the test is skipped and says so, which is how the kernel tests that sweep testing::fused_isas()
// report the sets they could not run. Where the CPU has it, the fused forward, backward and
// decode kernels of that set agree with the reference kernel on one problem, and KATTN_ISA's
// name for it selects it.
#include <gtest/gtest.h>

#include <string>

#include "kattn/ops/sdpa.hpp"
#include "kernel_test_util.hpp"
#include "projected_test_util.hpp"

namespace kattn {
namespace {

using kernels::Isa;
using testing::all_close;
using testing::random_normal;

class InstructionSets : public ::testing::TestWithParam<Isa> {};

TEST_P(InstructionSets, RunWhereTheCpuHasThem) {
  const Isa isa = GetParam();
  if (!kernels::cpu_runs(isa)) {
    GTEST_SKIP() << "this CPU (or this build) cannot run the " << kernels::isa_name(isa)
                 << " kernels: their tests are skipped";
  }
  const Tensor q = random_normal({2, 37, 4, 24}, 1), k = random_normal({2, 53, 2, 24}, 2);
  const Tensor v = random_normal({2, 53, 2, 20}, 3), d_out = random_normal({2, 37, 4, 20}, 4);
  const ops::SdpaOptions options{.scale = 0.3, .is_causal = true, .return_logsumexp = true};
  const auto run = [&](Isa with, const Tensor& query) {
    const kernels::ScopedIsa scoped(with);
    const ops::SdpaResult<float> forward = ops::scaled_dot_product_attention(query, k, v, options);
    return std::pair{forward.output,
                     ops::scaled_dot_product_attention_backward(
                         query, k, v, forward, d_out.slice(1, 0, query.dim(1)), options)};
  };
  for (const Tensor& query : {q, q.slice(1, 0, 1)}) {  // 37 rows: tiled; 1 row: decode
    const auto [output, grads] = run(isa, query);
    const auto [expected, expected_grads] = run(Isa::kReference, query);
    EXPECT_TRUE(all_close(output, expected, 1e-5, 1e-5));
    EXPECT_TRUE(all_close(grads.query, expected_grads.query, 1e-4, 1e-4));
    EXPECT_TRUE(all_close(grads.key, expected_grads.key, 1e-4, 1e-4));
    EXPECT_TRUE(all_close(grads.value, expected_grads.value, 1e-4, 1e-4));
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, InstructionSets,
                         ::testing::Values(Isa::kReference, Isa::kPortable, Isa::kAvx2,
                                           Isa::kAvx512),
                         [](const ::testing::TestParamInfo<Isa>& test) {
                           return std::string(kernels::isa_name(test.param));
                         });

}  // namespace
}  // namespace kattn
