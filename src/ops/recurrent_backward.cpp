#include "kattn/ops/recurrent_backward.hpp"

#include <cblas.h>

#include <algorithm>
#include <utility>

#include "ops/recurrent_step.hpp"

namespace kattn::ops {

namespace {

// c (m, n) = beta c + op(a) op(b), row-major; op transposes when asked.
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<blasint>(m), static_cast<blasint>(n),
              static_cast<blasint>(k), 1.0f, a, static_cast<blasint>(lda), b,
              static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda,
          const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<blasint>(m), static_cast<blasint>(n),
              static_cast<blasint>(k), 1.0, a, static_cast<blasint>(lda), b,
              static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

// The sizes and the bias pointers of one call.
template <typename Real>
struct Loop {
  Loop(const BasicTensor<Real>& sequences, const RecurrentWeightsOf<Real>& weights,
       const RecurrentSpec& spec, const RecurrentDropoutMasks<Real>& dropout_masks)
      : dropout(dropout_masks),
        batch(sequences.dim(0)),
        steps(sequences.dim(1)),
        features(sequences.dim(2)),
        units(weights.recurrent_kernel.dim(0)),
        gates(recurrent_gates(spec.cell)),
        width(gates * units),
        bias(weights.bias != nullptr ? weights.bias->contiguous() : BasicTensor<Real>()),
        kernel(weights.kernel.contiguous()),
        recurrent_kernel(weights.recurrent_kernel.contiguous()) {
    const bool two_biases = spec.cell == RecurrentCell::kGRU && spec.reset_after;
    if (weights.bias != nullptr) {
      if (spec.cell == RecurrentCell::kLSTM) {
        gate_bias = bias.data();
      } else {
        input_bias = bias.data();
      }
      if (two_biases) recurrent_bias = bias.data() + width;
    }
  }
  // The input (recurrent) dropout mask gate block g reads; null without dropout there.
  const BasicTensor<Real>* input_mask(int64_t g) const { return mask_of(dropout.inputs, g); }
  const BasicTensor<Real>* recurrent_mask(int64_t g) const { return mask_of(dropout.recurrent, g); }
  static const BasicTensor<Real>* mask_of(const std::vector<BasicTensor<Real>>& masks, int64_t g) {
    if (masks.empty()) return nullptr;
    return &masks[masks.size() == 1 ? 0 : static_cast<size_t>(g)];
  }
  // Time index of processing step p.
  int64_t time(const RecurrentSpec& spec, int64_t p) const {
    return spec.go_backwards ? steps - 1 - p : p;
  }

  const RecurrentDropoutMasks<Real>& dropout;
  int64_t batch, steps, features, units, gates, width;
  BasicTensor<Real> bias, kernel, recurrent_kernel;
  const Real* input_bias = nullptr;      // added to x W (GRU's first row, SimpleRNN's)
  const Real* gate_bias = nullptr;       // added after h U (LSTM's)
  const Real* recurrent_bias = nullptr;  // added to h U (GRU reset_after's second row)
};

// x (B, ..., D) times mask (B, D) broadcast over the middle axes; x itself without a mask.
template <typename Real>
BasicTensor<Real> dropped(const BasicTensor<Real>& x, const BasicTensor<Real>* mask) {
  if (mask == nullptr) return x;
  BasicTensor<Real> out = x.contiguous().clone();
  const int64_t batch = out.dim(0), depth = out.dim(-1), rows = out.size() / (batch * depth);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t d = 0; d < depth; ++d) out.data()[(b * rows + r) * depth + d] *= (*mask)(b, d);
    }
  }
  return out;
}

// The gate blocks a step's recurrent product h U fills: all of them but the candidate of a
// GRU that resets before the product.
int64_t recurrent_blocks(const RecurrentSpec& spec) {
  return spec.cell == RecurrentCell::kGRU && !spec.reset_after ? 2 : recurrent_gates(spec.cell);
}

// One step of every row, from the states before it.
template <typename Real>
struct StepValues {
  std::vector<BasicTensor<Real>> pre;   // per gate (B, units): the pre-activation values
  std::vector<BasicTensor<Real>> gate;  // per gate (B, units): activated
  BasicTensor<Real> recurrent;          // (B, G * units): h U (+ the recurrent bias)
  BasicTensor<Real> reset_h;            // GRU reset before: r * h
  BasicTensor<Real> c_act;              // LSTM: act(c')
  std::vector<BasicTensor<Real>> next;  // the states after the step
};

template <typename Real>
StepValues<Real> run_step(const Loop<Real>& loop, const RecurrentSpec& spec, const Real* x,
                          int64_t x_stride, const std::vector<BasicTensor<Real>>& state) {
  const int64_t batch = loop.batch, units = loop.units, width = loop.width;
  const BasicTensor<Real>& h = state[0];
  StepValues<Real> s;
  s.recurrent = BasicTensor<Real>({batch, width});
  if (loop.dropout.recurrent.empty()) {
    gemm(false, false, batch, width, units, h.data(), units, loop.recurrent_kernel.data(), width,
         Real(0), s.recurrent.data(), width);
  } else {
    for (int64_t g = 0; g < recurrent_blocks(spec); ++g) {
      const BasicTensor<Real> h_dropped = dropped(h, loop.recurrent_mask(g));
      gemm(false, false, batch, units, units, h_dropped.data(), units,
           loop.recurrent_kernel.data() + g * units, width, Real(0), s.recurrent.data() + g * units,
           width);
    }
  }
  if (loop.recurrent_bias != nullptr) {
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t j = 0; j < width; ++j)
        s.recurrent.data()[b * width + j] += loop.recurrent_bias[j];
    }
  }
  const auto x_at = [&](int64_t b, int64_t g, int64_t j) {
    return x[b * x_stride + g * units + j];
  };
  const auto rec_at = [&](int64_t b, int64_t g, int64_t j) {
    return s.recurrent.data()[b * width + g * units + j];
  };
  for (int64_t g = 0; g < loop.gates; ++g) {
    BasicTensor<Real> pre({batch, units});
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t j = 0; j < units; ++j) {
        Real value = x_at(b, g, j);
        const bool candidate_of_gru = spec.cell == RecurrentCell::kGRU && g == 2;
        if (!candidate_of_gru) value = value + rec_at(b, g, j);
        if (loop.gate_bias != nullptr) value += loop.gate_bias[g * units + j];
        pre(b, j) = value;
      }
    }
    s.pre.push_back(std::move(pre));
  }
  const auto activate = [&](size_t g, const ActivationFunction& f) {
    s.gate.resize(s.pre.size());
    s.gate[g] = s.pre[g].clone();
    f(s.gate[g]);
  };
  const int64_t n = batch * units;
  switch (spec.cell) {
    case RecurrentCell::kLSTM: {
      for (size_t g = 0; g < 4; ++g) {
        activate(g, g == 2 ? spec.activation : spec.recurrent_activation);
      }
      BasicTensor<Real> c_next({batch, units}), h_next({batch, units});
      const Real *i = s.gate[0].data(), *f = s.gate[1].data(), *c = state[1].data();
      for (int64_t k = 0; k < n; ++k) c_next.data()[k] = f[k] * c[k] + i[k] * s.gate[2].data()[k];
      s.c_act = c_next.clone();
      spec.activation(s.c_act);
      for (int64_t k = 0; k < n; ++k) h_next.data()[k] = s.gate[3].data()[k] * s.c_act.data()[k];
      s.next = {std::move(h_next), std::move(c_next)};
      break;
    }
    case RecurrentCell::kGRU: {
      activate(0, spec.recurrent_activation);
      activate(1, spec.recurrent_activation);
      const Real* r = s.gate[1].data();
      if (spec.reset_after) {
        for (int64_t b = 0; b < batch; ++b) {
          for (int64_t j = 0; j < units; ++j) {
            s.pre[2](b, j) = x_at(b, 2, j) + r[b * units + j] * rec_at(b, 2, j);
          }
        }
      } else {
        s.reset_h = BasicTensor<Real>({batch, units});
        const BasicTensor<Real> h_dropped = dropped(h, loop.recurrent_mask(2));
        for (int64_t k = 0; k < n; ++k) s.reset_h.data()[k] = r[k] * h_dropped.data()[k];
        BasicTensor<Real> product({batch, units});
        gemm(false, false, batch, units, units, s.reset_h.data(), units,
             loop.recurrent_kernel.data() + 2 * units, width, Real(0), product.data(), units);
        for (int64_t b = 0; b < batch; ++b) {
          for (int64_t j = 0; j < units; ++j) s.pre[2](b, j) = x_at(b, 2, j) + product(b, j);
        }
      }
      activate(2, spec.activation);
      BasicTensor<Real> h_next({batch, units});
      const Real *z = s.gate[0].data(), *candidate = s.gate[2].data();
      for (int64_t k = 0; k < n; ++k) {
        h_next.data()[k] = z[k] * h.data()[k] + (Real(1) - z[k]) * candidate[k];
      }
      s.next = {std::move(h_next)};
      break;
    }
    case RecurrentCell::kSimpleRNN:
      activate(0, spec.activation);
      s.next = {s.gate[0].clone()};
      break;
  }
  return s;
}

// The cell's backward for one step: dz (B, G * units) for the upstream dh', dc' (rows of
// masked steps hold zeros there), and the gradients of the states before the step, added
// into d_state; d_recurrent_kernel and d_bias's recurrent part get theirs.
template <typename Real>
void step_backward(const Loop<Real>& loop, const RecurrentSpec& spec,
                   const std::vector<BasicTensor<Real>>& state, const StepValues<Real>& s,
                   const BasicTensor<Real>& dh_next, const BasicTensor<Real>* dc_next, Real* dz,
                   std::vector<BasicTensor<Real>>& d_state, BasicTensor<Real>& d_recurrent_kernel,
                   Real* d_recurrent_bias) {
  const int64_t batch = loop.batch, units = loop.units, width = loop.width, n = batch * units;
  const BasicTensor<Real>& h = state[0];
  const auto put = [&](int64_t g, const BasicTensor<Real>& block) {
    for (int64_t b = 0; b < batch; ++b) {
      std::copy_n(block.data() + b * units, units, dz + b * width + g * units);
    }
  };
  // dz's blocks that multiply h U (the recurrent product): all of them but GRU's candidate.
  BasicTensor<Real> d_rec({batch, width});
  switch (spec.cell) {
    case RecurrentCell::kLSTM: {
      const Real *i = s.gate[0].data(), *f = s.gate[1].data(), *g = s.gate[2].data();
      const Real* o = s.gate[3].data();
      BasicTensor<Real> d_c_act({batch, units}), d_o({batch, units});
      for (int64_t k = 0; k < n; ++k) {
        d_c_act.data()[k] = dh_next.data()[k] * o[k];
        d_o.data()[k] = dh_next.data()[k] * s.c_act.data()[k];
      }
      BasicTensor<Real> c_next({batch, units});
      for (int64_t k = 0; k < n; ++k) c_next.data()[k] = f[k] * state[1].data()[k] + i[k] * g[k];
      BasicTensor<Real> dc = spec.activation.backward(c_next, s.c_act, d_c_act);
      if (dc_next != nullptr) {
        for (int64_t k = 0; k < n; ++k) dc.data()[k] += dc_next->data()[k];
      }
      BasicTensor<Real> d_i({batch, units}), d_f({batch, units}), d_g({batch, units});
      for (int64_t k = 0; k < n; ++k) {
        d_i.data()[k] = dc.data()[k] * g[k];
        d_f.data()[k] = dc.data()[k] * state[1].data()[k];
        d_g.data()[k] = dc.data()[k] * i[k];
        d_state[1].data()[k] += dc.data()[k] * f[k];
      }
      put(0, spec.recurrent_activation.backward(s.pre[0], s.gate[0], d_i));
      put(1, spec.recurrent_activation.backward(s.pre[1], s.gate[1], d_f));
      put(2, spec.activation.backward(s.pre[2], s.gate[2], d_g));
      put(3, spec.recurrent_activation.backward(s.pre[3], s.gate[3], d_o));
      std::copy_n(dz, batch * width, d_rec.data());
      break;
    }
    case RecurrentCell::kGRU: {
      const Real *z = s.gate[0].data(), *r = s.gate[1].data(), *candidate = s.gate[2].data();
      BasicTensor<Real> d_z({batch, units}), d_candidate({batch, units});
      for (int64_t k = 0; k < n; ++k) {
        d_z.data()[k] = dh_next.data()[k] * (h.data()[k] - candidate[k]);
        d_candidate.data()[k] = dh_next.data()[k] * (Real(1) - z[k]);
        d_state[0].data()[k] += dh_next.data()[k] * z[k];
      }
      const BasicTensor<Real> d_pre_h = spec.activation.backward(s.pre[2], s.gate[2], d_candidate);
      BasicTensor<Real> d_r({batch, units});
      if (spec.reset_after) {
        // pre_h = x_h + r * rec_h
        for (int64_t b = 0; b < batch; ++b) {
          for (int64_t j = 0; j < units; ++j) {
            const int64_t k = b * units + j;
            d_r.data()[k] = d_pre_h.data()[k] * s.recurrent.data()[b * width + 2 * units + j];
            d_rec.data()[b * width + 2 * units + j] = d_pre_h.data()[k] * r[k];
          }
        }
      } else {
        // pre_h = x_h + (r * h) U_h
        BasicTensor<Real> d_reset_h({batch, units});
        gemm(false, true, batch, units, units, d_pre_h.data(), units,
             loop.recurrent_kernel.data() + 2 * units, width, Real(0), d_reset_h.data(), units);
        gemm(true, false, units, units, batch, s.reset_h.data(), units, d_pre_h.data(), units,
             Real(1), d_recurrent_kernel.data() + 2 * units, width);
        const BasicTensor<Real>* mask = loop.recurrent_mask(2);
        for (int64_t k = 0; k < n; ++k) {
          const Real keep = mask != nullptr ? mask->data()[k] : Real(1);
          d_r.data()[k] = d_reset_h.data()[k] * h.data()[k] * keep;
          d_state[0].data()[k] += d_reset_h.data()[k] * r[k] * keep;
        }
      }
      const BasicTensor<Real> d_pre_z =
          spec.recurrent_activation.backward(s.pre[0], s.gate[0], d_z);
      const BasicTensor<Real> d_pre_r =
          spec.recurrent_activation.backward(s.pre[1], s.gate[1], d_r);
      put(0, d_pre_z);
      put(1, d_pre_r);
      put(2, d_pre_h);
      for (int64_t b = 0; b < batch; ++b) {
        std::copy_n(d_pre_z.data() + b * units, units, d_rec.data() + b * width);
        std::copy_n(d_pre_r.data() + b * units, units, d_rec.data() + b * width + units);
      }
      break;
    }
    case RecurrentCell::kSimpleRNN:
      put(0, spec.activation.backward(s.pre[0], s.gate[0], dh_next));
      std::copy_n(dz, batch * width, d_rec.data());
      break;
  }
  // The recurrent product's columns: GRU reset before has only z and r there.
  const int64_t blocks = recurrent_blocks(spec);
  if (loop.dropout.recurrent.empty()) {
    gemm(true, false, units, blocks * units, batch, h.data(), units, d_rec.data(), width, Real(1),
         d_recurrent_kernel.data(), width);
    gemm(false, true, batch, units, blocks * units, d_rec.data(), width,
         loop.recurrent_kernel.data(), width, Real(1), d_state[0].data(), units);
  } else {
    BasicTensor<Real> d_h_dropped({batch, units});
    for (int64_t g = 0; g < blocks; ++g) {
      const BasicTensor<Real>* mask = loop.recurrent_mask(g);
      const BasicTensor<Real> h_dropped = dropped(h, mask);
      gemm(true, false, units, units, batch, h_dropped.data(), units, d_rec.data() + g * units,
           width, Real(1), d_recurrent_kernel.data() + g * units, width);
      gemm(false, true, batch, units, units, d_rec.data() + g * units, width,
           loop.recurrent_kernel.data() + g * units, width, Real(0), d_h_dropped.data(), units);
      const BasicTensor<Real> d_h = dropped(d_h_dropped, mask);
      for (int64_t k = 0; k < n; ++k) d_state[0].data()[k] += d_h.data()[k];
    }
  }
  if (d_recurrent_bias != nullptr) {
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t j = 0; j < width; ++j) d_recurrent_bias[j] += d_rec.data()[b * width + j];
    }
  }
}

}  // namespace

template <typename Real>
RecurrentTape<Real> recurrent_forward(const BasicTensor<Real>& sequences,
                                      const RecurrentWeightsOf<Real>& weights,
                                      const RecurrentSpec& spec, const Mask* mask,
                                      const std::vector<BasicTensor<Real>>& initial_state,
                                      const RecurrentDropoutMasks<Real>& dropout) {
  const Loop<Real> loop(sequences, weights, spec, dropout);
  const int64_t batch = loop.batch, steps = loop.steps, units = loop.units, width = loop.width;
  const BasicTensor<Real> x_seq = sequences.contiguous();
  RecurrentTape<Real> tape;
  // x_t W (+ the input bias) of every step at once: (B * T, F) (F, G * units).
  tape.inputs = BasicTensor<Real>({batch, steps, width});
  if (dropout.inputs.empty()) {
    gemm(false, false, batch * steps, width, loop.features, x_seq.data(), loop.features,
         loop.kernel.data(), width, Real(0), tape.inputs.data(), width);
  } else {
    for (int64_t g = 0; g < loop.gates; ++g) {
      const BasicTensor<Real> x_dropped = dropped(x_seq, loop.input_mask(g));
      gemm(false, false, batch * steps, units, loop.features, x_dropped.data(), loop.features,
           loop.kernel.data() + g * units, width, Real(0), tape.inputs.data() + g * units, width);
    }
  }
  if (loop.input_bias != nullptr) {
    for (int64_t row = 0; row < batch * steps; ++row) {
      for (int64_t j = 0; j < width; ++j) tape.inputs.data()[row * width + j] += loop.input_bias[j];
    }
  }
  std::vector<BasicTensor<Real>> state;
  for (int64_t k = 0; k < recurrent_states(spec.cell); ++k) {
    state.push_back(initial_state.empty()
                        ? BasicTensor<Real>({batch, units})
                        : initial_state[static_cast<size_t>(k)].contiguous().clone());
    tape.step_states.emplace_back(Shape{steps, batch, units});
  }
  const Mask keep = mask != nullptr ? mask->contiguous() : Mask();
  BasicTensor<Real> last({batch, units});
  BasicTensor<Real> sequence =
      spec.return_sequences ? BasicTensor<Real>({batch, steps, units}) : BasicTensor<Real>();
  for (int64_t p = 0; p < steps; ++p) {
    const int64_t t = loop.time(spec, p);
    for (size_t k = 0; k < state.size(); ++k) {
      std::copy_n(state[k].data(), batch * units, tape.step_states[k].data() + p * batch * units);
    }
    const StepValues<Real> s =
        run_step(loop, spec, tape.inputs.data() + t * width, steps * width, state);
    for (int64_t b = 0; b < batch; ++b) {
      const Real* next_rows[2] = {s.next[0].data() + b * units,
                                  s.next.size() > 1 ? s.next[1].data() + b * units : nullptr};
      Real* state_rows[2] = {state[0].data() + b * units,
                             state.size() > 1 ? state[1].data() + b * units : nullptr};
      detail::finish_step_row(spec, units, mask == nullptr || keep.data()[b * steps + t],
                              static_cast<int64_t>(state.size()), next_rows, state_rows,
                              last.data() + b * units);
    }
    if (spec.return_sequences) {
      for (int64_t b = 0; b < batch; ++b) {
        std::copy_n(last.data() + b * units, units, sequence.data() + (b * steps + p) * units);
      }
    }
  }
  tape.output = spec.return_sequences ? std::move(sequence) : std::move(last);
  tape.states = std::move(state);
  return tape;
}

template <typename Real>
RecurrentGradients<Real> recurrent_backward(const BasicTensor<Real>& sequences,
                                            const RecurrentWeightsOf<Real>& weights,
                                            const RecurrentSpec& spec, const Mask* mask,
                                            const RecurrentTape<Real>& tape,
                                            const BasicTensor<Real>& d_output,
                                            const std::vector<BasicTensor<Real>>& d_states,
                                            const RecurrentDropoutMasks<Real>& dropout) {
  const Loop<Real> loop(sequences, weights, spec, dropout);
  const int64_t batch = loop.batch, steps = loop.steps, units = loop.units, width = loop.width;
  const int64_t n = batch * units;
  const BasicTensor<Real> d_out_all = d_output.contiguous();
  const Mask keep = mask != nullptr ? mask->contiguous() : Mask();
  const size_t state_count = static_cast<size_t>(recurrent_states(spec.cell));

  RecurrentGradients<Real> grads;
  grads.recurrent_kernel = BasicTensor<Real>(weights.recurrent_kernel.shape());
  BasicTensor<Real> d_inputs({batch, steps, width});  // dz of every step, at its time
  std::vector<BasicTensor<Real>> d_state;
  for (size_t k = 0; k < state_count; ++k) {
    d_state.emplace_back(Shape{batch, units});
    if (k < d_states.size() && d_states[k].rank() > 0)
      d_state[k] = d_states[k].contiguous().clone();
  }
  BasicTensor<Real> recurrent_bias_grad({width});
  Real* d_recurrent_bias = loop.recurrent_bias != nullptr ? recurrent_bias_grad.data() : nullptr;
  BasicTensor<Real> carry({batch, units});  // unrolled: d of the previous step's output

  for (int64_t p = steps - 1; p >= 0; --p) {
    const int64_t t = loop.time(spec, p);
    // d of this step's output.
    BasicTensor<Real> d_out = carry.clone();
    carry.fill(Real(0));
    if (spec.return_sequences) {
      for (int64_t b = 0; b < batch; ++b) {
        for (int64_t j = 0; j < units; ++j)
          d_out(b, j) += d_out_all.data()[(b * steps + p) * units + j];
      }
    } else if (p == steps - 1) {
      for (int64_t k = 0; k < n; ++k) d_out.data()[k] += d_out_all.data()[k];
    }
    std::vector<BasicTensor<Real>> state;
    for (size_t k = 0; k < state_count; ++k) {
      state.push_back(tape.step_states[k].slice(0, p, p + 1).reshape({batch, units}).contiguous());
    }
    // Upstream of the cell: kept rows only; masked rows pass their gradients through.
    BasicTensor<Real> dh_next({batch, units});
    BasicTensor<Real> dc_next =
        state_count == 2 ? BasicTensor<Real>({batch, units}) : BasicTensor<Real>();
    std::vector<BasicTensor<Real>> d_before;
    for (size_t k = 0; k < state_count; ++k) d_before.emplace_back(Shape{batch, units});
    for (int64_t b = 0; b < batch; ++b) {
      const bool kept = mask == nullptr || keep.data()[b * steps + t];
      for (int64_t j = 0; j < units; ++j) {
        const int64_t k = b * units + j;
        if (kept) {
          dh_next.data()[k] = d_state[0].data()[k] + d_out.data()[k];
          if (state_count == 2) dc_next.data()[k] = d_state[1].data()[k];
        } else {
          for (size_t s = 0; s < state_count; ++s) d_before[s].data()[k] = d_state[s].data()[k];
          if (spec.unroll) {
            carry.data()[k] = d_out.data()[k];
          } else if (!spec.zero_output_for_mask) {
            d_before[0].data()[k] += d_out.data()[k];
          }
        }
      }
    }
    const StepValues<Real> s =
        run_step(loop, spec, tape.inputs.data() + t * width, steps * width, state);
    BasicTensor<Real> dz({batch, width});
    step_backward(loop, spec, state, s, dh_next, state_count == 2 ? &dc_next : nullptr, dz.data(),
                  d_before, grads.recurrent_kernel, d_recurrent_bias);
    for (int64_t b = 0; b < batch; ++b) {
      std::copy_n(dz.data() + b * width, width, d_inputs.data() + (b * steps + t) * width);
    }
    d_state = std::move(d_before);
  }

  // The input products: d_sequences = dz W^T, d_kernel = x^T dz, d_bias = sum dz; with
  // dropout, per gate block: d_sequences += (dz_g W_g^T) * mask_g, d_W_g = (x * mask_g)^T dz_g.
  const BasicTensor<Real> x_seq = sequences.contiguous();
  const int64_t features = loop.features;
  grads.sequences = BasicTensor<Real>({batch, steps, features});
  grads.kernel = BasicTensor<Real>(weights.kernel.shape());
  if (dropout.inputs.empty()) {
    gemm(false, true, batch * steps, features, width, d_inputs.data(), width, loop.kernel.data(),
         width, Real(0), grads.sequences.data(), features);
    gemm(true, false, features, width, batch * steps, x_seq.data(), features, d_inputs.data(),
         width, Real(0), grads.kernel.data(), width);
  } else {
    BasicTensor<Real> d_x_dropped({batch, steps, features});
    for (int64_t g = 0; g < loop.gates; ++g) {
      const BasicTensor<Real>* input_mask = loop.input_mask(g);
      gemm(false, true, batch * steps, features, units, d_inputs.data() + g * units, width,
           loop.kernel.data() + g * units, width, Real(0), d_x_dropped.data(), features);
      const BasicTensor<Real> d_x = dropped(d_x_dropped, input_mask);
      for (int64_t i = 0; i < d_x.size(); ++i) grads.sequences.data()[i] += d_x.data()[i];
      const BasicTensor<Real> x_dropped = dropped(x_seq, input_mask);
      gemm(true, false, features, units, batch * steps, x_dropped.data(), features,
           d_inputs.data() + g * units, width, Real(0), grads.kernel.data() + g * units, width);
    }
  }
  if (weights.bias != nullptr) {
    grads.bias = BasicTensor<Real>(weights.bias->shape());
    for (int64_t row = 0; row < batch * steps; ++row) {
      for (int64_t j = 0; j < width; ++j) grads.bias.data()[j] += d_inputs.data()[row * width + j];
    }
    if (d_recurrent_bias != nullptr) {
      std::copy_n(d_recurrent_bias, width, grads.bias.data() + width);
    }
  }
  grads.initial_state = std::move(d_state);
  return grads;
}

#define KATTN_INSTANTIATE_RECURRENT_BACKWARD(Real)                                             \
  template RecurrentTape<Real> recurrent_forward<Real>(                                        \
      const BasicTensor<Real>&, const RecurrentWeightsOf<Real>&, const RecurrentSpec&,         \
      const Mask*, const std::vector<BasicTensor<Real>>&, const RecurrentDropoutMasks<Real>&); \
  template RecurrentGradients<Real> recurrent_backward<Real>(                                  \
      const BasicTensor<Real>&, const RecurrentWeightsOf<Real>&, const RecurrentSpec&,         \
      const Mask*, const RecurrentTape<Real>&, const BasicTensor<Real>&,                       \
      const std::vector<BasicTensor<Real>>&, const RecurrentDropoutMasks<Real>&);
KATTN_INSTANTIATE_RECURRENT_BACKWARD(float)
KATTN_INSTANTIATE_RECURRENT_BACKWARD(double)
#undef KATTN_INSTANTIATE_RECURRENT_BACKWARD

}  // namespace kattn::ops
