#include "ops/matmul_operation.hpp"

#include <string>
#include <utility>

#include "core/broadcast.hpp"
#include "core/node_inputs.hpp"
#include "core/strided.hpp"
#include "ops/keras_op.hpp"

namespace kattn::detail {

namespace {

const std::vector<std::string> kParameters{"x1", "x2"};

// The operands as batches of matrices: x1 (..., m, k), x2 (..., k, n), the broadcast batch
// shape, and the output's shape (numpy's, with a 1-D operand's axis dropped).
struct Plan {
  Shape batch;
  int64_t m = 0, k = 0, n = 0;
  Shape a_batch, b_batch;  // each operand's own batch shape
  Shape output;
};

class Matmul : public KerasOp {
 public:
  explicit Matmul(std::string name) : KerasOp("Matmul", kNumpyOps, std::move(name)) {}
  const std::vector<std::string>& call_parameters() const override { return kParameters; }

  std::vector<KerasTensor> compute_output_spec(const SymbolicArguments& arguments) override {
    const KerasTensor& a = arguments.tensor("x1");
    const KerasTensor& b = arguments.tensor("x2");
    check_dtype(a, DType::kFloat32, source(), "x1");
    check_dtype(b, DType::kFloat32, source(), "x2");
    return {KerasTensor(plan(a.shape(), b.shape()).output, DType::kFloat32)};
  }

  std::vector<ValuePtr> call_node(const ValueArguments& arguments,
                                  const RunContext&) const override {
    const Tensor a = float_input(*arguments.tensor("x1"), source(), "x1").contiguous();
    const Tensor b = float_input(*arguments.tensor("x2"), source(), "x2").contiguous();
    const Plan p = plan(a.shape(), b.shape());
    Tensor out(p.output);
    const std::vector<int64_t> a_at = batch_offsets(p.a_batch, p.batch, p.m * p.k);
    const std::vector<int64_t> b_at = batch_offsets(p.b_batch, p.batch, p.k * p.n);
    for (size_t batch = 0; batch < a_at.size(); ++batch) {
      const float* x = a.data() + a_at[batch];
      const float* y = b.data() + b_at[batch];
      float* z = out.data() + static_cast<int64_t>(batch) * p.m * p.n;
      for (int64_t i = 0; i < p.m; ++i) {
        for (int64_t j = 0; j < p.n; ++j) {
          double sum = 0.0;
          for (int64_t l = 0; l < p.k; ++l) sum += double(x[i * p.k + l]) * y[l * p.n + j];
          z[i * p.n + j] = static_cast<float>(sum);
        }
      }
    }
    return {make_value(std::move(out))};
  }

  // d x1 = d @ x2^T and d x2 = x1^T @ d per batch, summed over the batches an operand was
  // broadcast along.
  ValueGradients backward_node(const ValueArguments& arguments,
                               const BackwardPass& pass) const override {
    const ValuePtr& x1 = arguments.tensor("x1");
    const ValuePtr& x2 = arguments.tensor("x2");
    const Tensor* d_output = output_gradient(pass.d_outputs, 0);
    if (d_output == nullptr) return {};
    const Tensor a = float_input(*x1, source(), "x1").contiguous();
    const Tensor b = float_input(*x2, source(), "x2").contiguous();
    const Tensor d = d_output->contiguous();
    const Plan p = plan(a.shape(), b.shape());
    Tensor d_a(a.shape()), d_b(b.shape());
    const std::vector<int64_t> a_at = batch_offsets(p.a_batch, p.batch, p.m * p.k);
    const std::vector<int64_t> b_at = batch_offsets(p.b_batch, p.batch, p.k * p.n);
    for (size_t batch = 0; batch < a_at.size(); ++batch) {
      const float* x = a.data() + a_at[batch];
      const float* y = b.data() + b_at[batch];
      const float* g = d.data() + static_cast<int64_t>(batch) * p.m * p.n;
      float* dx = d_a.data() + a_at[batch];
      float* dy = d_b.data() + b_at[batch];
      for (int64_t i = 0; i < p.m; ++i) {
        for (int64_t j = 0; j < p.n; ++j) {
          const float gij = g[i * p.n + j];
          for (int64_t l = 0; l < p.k; ++l) {
            dx[i * p.k + l] += gij * y[l * p.n + j];
            dy[l * p.n + j] += x[i * p.k + l] * gij;
          }
        }
      }
    }
    return {{x1, std::move(d_a)}, {x2, std::move(d_b)}};
  }

 private:
  Plan plan(const Shape& a, const Shape& b) const {
    if (a.empty() || b.empty()) {
      throw_value_error(source(), "matmul: Input operand does not have enough dimensions",
                        "operands of rank >= 1",
                        "shapes " + shape_to_string(a) + " and " + shape_to_string(b));
    }
    Plan p;
    const bool a_vector = a.size() == 1, b_vector = b.size() == 1;
    p.m = a_vector ? 1 : a[a.size() - 2];
    p.k = a.back();
    const int64_t k2 = b_vector ? b[0] : b[b.size() - 2];
    p.n = b_vector ? 1 : b.back();
    if (p.k >= 0 && k2 >= 0 && p.k != k2) {
      throw_value_error(source(), "matmul: the operands' inner dimensions differ",
                        "x1 (..., m, k) and x2 (..., k, n)",
                        "shapes " + shape_to_string(a) + " and " + shape_to_string(b));
    }
    if (p.k < 0) p.k = k2;
    p.a_batch = a_vector ? Shape{} : Shape(a.begin(), a.end() - 2);
    p.b_batch = b_vector ? Shape{} : Shape(b.begin(), b.end() - 2);
    const std::optional<Shape> batch = broadcast_shapes(p.a_batch, p.b_batch);
    if (!batch) {
      throw_value_error(source(), "matmul: the operands' batch axes do not broadcast",
                        "leading axes that broadcast",
                        "shapes " + shape_to_string(a) + " and " + shape_to_string(b));
    }
    p.batch = *batch;
    p.output = p.batch;
    if (!a_vector) p.output.push_back(p.m);
    if (!b_vector) p.output.push_back(p.n);
    return p;
  }

  // The offset of each output batch's matrix in an operand of batch shape `own` (matrices of
  // `matrix` elements), broadcast to `batch`.
  static std::vector<int64_t> batch_offsets(const Shape& own, const Shape& batch, int64_t matrix) {
    const size_t lead = batch.size() - own.size();
    const Shape own_strides = contiguous_strides(own);
    Shape strides(batch.size(), 0);
    for (size_t a = lead; a < batch.size(); ++a) {
      if (own[a - lead] != 1) strides[a] = own_strides[a - lead] * matrix;
    }
    std::vector<int64_t> offsets;
    for_each_offset(batch, strides, [&](int64_t offset) { offsets.push_back(offset); });
    return offsets;
  }
};

}  // namespace

KerasTensor symbolic_matmul(const KerasTensor& x1, const KerasTensor& x2) {
  NodeArguments<KerasTensor> args;
  args.args = {NodeArg<KerasTensor>::tensor(x1), NodeArg<KerasTensor>::tensor(x2)};
  return single_output(std::make_shared<Matmul>(unique_name("matmul")), std::move(args));
}

std::vector<OperationEntry> matmul_operation_entries() {
  return {op_entry<Matmul>("Matmul", kNumpyOps)};
}

}  // namespace kattn::detail
