#!/usr/bin/env python3
"""Runs one peer of kattn on the inputs kattn wrote (`kattn bench sdpa|mha|lstm|gru --save DIR`),
checks that it computes kattn's output, then times it:

    peers.py sdpa DIR PEER --threads N [--causal] [--runs R]
    peers.py mha DIR PEER --threads N [--causal] [--runs R]
    peers.py lstm|gru DIR torch --threads N [--runs R]

sdpa peers: torch (torch.nn.functional.scaled_dot_product_attention), onnxruntime_mha
(com.microsoft.MultiHeadAttention), onnx_attention (the standard ONNX Attention operator, opset
23), onnxruntime_gqa (com.microsoft.GroupQueryAttention, decoding steps: T = 1), jax
(jax.nn.dot_product_attention on XLA's CPU backend). mha peers: torch
(torch.nn.MultiheadAttention with kattn's weights), onnxruntime_mha (the four projections around
com.microsoft.MultiHeadAttention). lstm and gru peers: torch (torch.nn.LSTM, torch.nn.GRU with
kattn's weights in PyTorch's gate order; any PyTorch: Debian's 1.13 under /usr/bin/python3 too).

Prints one JSON line: peer, version, median_ms, min_ms, max_ms (over R timed runs after 3
warm-up runs), max_abs_error against kattn's output. Exits 2, printing the difference, when the
peer computes something else: a ratio against it would be a harness bug. Run it with the
interpreter of the virtual environment `scripts/bench_peers --install` makes.
"""
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

TOLERANCE = 2e-3  # max |peer - kattn| over max |kattn|: float32 sums in another order


def load(directory, name):
    return np.load(Path(directory) / f"{name}.npy")


def timed(call, runs):
    for _ in range(3):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), min(times), max(times)


# ---------------------------------------------------------------------------------------------
# The weightless attention: query (B, T, N, H), key and value (B, S, K, H).

def sdpa_torch(q, k, v, causal, threads):
    import torch
    torch.set_num_threads(threads)
    tq, tk, tv = (torch.from_numpy(x).transpose(1, 2).contiguous() for x in (q, k, v))
    gqa = q.shape[2] != k.shape[2]

    def call():
        with torch.no_grad():
            return torch.nn.functional.scaled_dot_product_attention(
                tq, tk, tv, is_causal=causal, enable_gqa=gqa)
    return lambda: call().transpose(1, 2).numpy(), call, torch.__version__


def ort_session(model, threads):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), options,
                                providers=["CPUExecutionProvider"]), ort.__version__


def sdpa_onnxruntime_mha(q, k, v, causal, threads):
    """com.microsoft.MultiHeadAttention on (B, S, N * H) inputs; K == N only."""
    from onnx import TensorProto, helper
    B, T, N, H = q.shape
    S = k.shape[1]
    if k.shape[2] != N:
        raise SystemExit("onnxruntime_mha: MultiHeadAttention takes as many key/value heads as "
                         "query heads")
    node = helper.make_node("MultiHeadAttention", ["q", "k", "v"], ["out"], domain="com.microsoft",
                            num_heads=N, unidirectional=int(causal))
    graph = helper.make_graph(
        [node], "mha",
        [helper.make_tensor_value_info("q", TensorProto.FLOAT, [B, T, N * H]),
         helper.make_tensor_value_info("k", TensorProto.FLOAT, [B, S, N * H]),
         helper.make_tensor_value_info("v", TensorProto.FLOAT, [B, S, N * H])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [B, T, N * H])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.microsoft", 1)])
    session, version = ort_session(model, threads)
    feeds = {"q": q.reshape(B, T, N * H), "k": k.reshape(B, S, N * H),
             "v": v.reshape(B, S, N * H)}

    def call():
        return session.run(None, feeds)[0]
    return lambda: call().reshape(B, T, N, H), call, version


def sdpa_onnx_attention(q, k, v, causal, threads):
    """The standard Attention operator (opset 23) on (B, heads, S, H) inputs."""
    from onnx import TensorProto, helper
    B, T, N, H = q.shape
    S, K = k.shape[1], k.shape[2]
    node = helper.make_node("Attention", ["q", "k", "v"], ["out"], is_causal=int(causal))
    graph = helper.make_graph(
        [node], "attention",
        [helper.make_tensor_value_info("q", TensorProto.FLOAT, [B, N, T, H]),
         helper.make_tensor_value_info("k", TensorProto.FLOAT, [B, K, S, H]),
         helper.make_tensor_value_info("v", TensorProto.FLOAT, [B, K, S, H])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [B, N, T, H])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 23)])
    session, version = ort_session(model, threads)
    feeds = {name: np.ascontiguousarray(x.transpose(0, 2, 1, 3))
             for name, x in (("q", q), ("k", k), ("v", v))}

    def call():
        return session.run(None, feeds)[0]
    return lambda: call().transpose(0, 2, 1, 3), call, version


def sdpa_onnxruntime_gqa(q, k, v, causal, threads):
    """com.microsoft.GroupQueryAttention as a decoding step: one query (T = 1), the last key and
    value as the new token, the S - 1 before it as the past cache."""
    from onnx import TensorProto, helper
    B, T, N, H = q.shape
    S, K = k.shape[1], k.shape[2]
    if T != 1:
        raise SystemExit("onnxruntime_gqa: times a decoding step, one query (T = 1)")
    node = helper.make_node(
        "GroupQueryAttention",
        ["q", "k", "v", "past_key", "past_value", "seqlens_k", "total_sequence_length"],
        ["out", "present_key", "present_value"], domain="com.microsoft", num_heads=N,
        kv_num_heads=K)
    graph = helper.make_graph(
        [node], "gqa",
        [helper.make_tensor_value_info("q", TensorProto.FLOAT, [B, 1, N * H]),
         helper.make_tensor_value_info("k", TensorProto.FLOAT, [B, 1, K * H]),
         helper.make_tensor_value_info("v", TensorProto.FLOAT, [B, 1, K * H]),
         helper.make_tensor_value_info("past_key", TensorProto.FLOAT, [B, K, S - 1, H]),
         helper.make_tensor_value_info("past_value", TensorProto.FLOAT, [B, K, S - 1, H]),
         helper.make_tensor_value_info("seqlens_k", TensorProto.INT32, [B]),
         helper.make_tensor_value_info("total_sequence_length", TensorProto.INT32, [])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [B, 1, N * H]),
         helper.make_tensor_value_info("present_key", TensorProto.FLOAT, [B, K, S, H]),
         helper.make_tensor_value_info("present_value", TensorProto.FLOAT, [B, K, S, H])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.microsoft", 1)])
    session, version = ort_session(model, threads)
    feeds = {"q": q.reshape(B, 1, N * H), "k": k[:, -1:].reshape(B, 1, K * H),
             "v": v[:, -1:].reshape(B, 1, K * H),
             "past_key": np.ascontiguousarray(k[:, :-1].transpose(0, 2, 1, 3)),
             "past_value": np.ascontiguousarray(v[:, :-1].transpose(0, 2, 1, 3)),
             "seqlens_k": np.full(B, S - 1, np.int32),
             "total_sequence_length": np.array(S, np.int32)}

    def call():
        return session.run(["out"], feeds)[0]
    return lambda: call().reshape(B, 1, N, H), call, version


def sdpa_jax(q, k, v, causal, threads):
    if threads == 1:  # read when jax is first imported
        os.environ["XLA_FLAGS"] = ("--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")
    import jax
    jq, jk, jv = (jax.device_put(x) for x in (q, k, v))
    attend = jax.jit(lambda a, b, c: jax.nn.dot_product_attention(a, b, c, is_causal=causal,
                                                                  implementation="xla"))

    def call():
        return attend(jq, jk, jv).block_until_ready()
    return lambda: np.asarray(call()), call, jax.__version__


# ---------------------------------------------------------------------------------------------
# The MultiHeadAttention layer: x (B, T, E), Keras's weights query/kernel (E, N, H), query/bias
# (N, H), key/..., value/..., attention_output/kernel (N, H, E), attention_output/bias (E,).

def mha_weights(directory):
    return [load(directory, f"weight_{i}") for i in range(8)]


def mha_torch(x, weights, causal, threads):
    import torch
    torch.set_num_threads(threads)
    wq, bq, wk, bk, wv, bv, wo, bo = weights
    E, N, H = wq.shape
    layer = torch.nn.MultiheadAttention(E, N, batch_first=True).eval()
    with torch.no_grad():
        layer.in_proj_weight.copy_(torch.from_numpy(
            np.concatenate([w.reshape(E, N * H).T for w in (wq, wk, wv)])))
        layer.in_proj_bias.copy_(torch.from_numpy(np.concatenate([b.reshape(-1)
                                                                  for b in (bq, bk, bv)])))
        layer.out_proj.weight.copy_(torch.from_numpy(wo.reshape(N * H, E).T.copy()))
        layer.out_proj.bias.copy_(torch.from_numpy(bo))
    tx = torch.from_numpy(x)
    T = x.shape[1]
    mask = torch.nn.Transformer.generate_square_subsequent_mask(T) if causal else None

    def call():
        with torch.no_grad():
            return layer(tx, tx, tx, need_weights=False, attn_mask=mask, is_causal=causal)[0]
    return lambda: call().numpy(), call, torch.__version__


def mha_onnxruntime(x, weights, causal, threads):
    from onnx import TensorProto, helper, numpy_helper
    wq, bq, wk, bk, wv, bv, wo, bo = weights
    E, N, H = wq.shape
    B, T, _ = x.shape
    initializers = [numpy_helper.from_array(np.ascontiguousarray(array), name) for name, array in (
        ("wq", wq.reshape(E, N * H)), ("bq", bq.reshape(-1)), ("wk", wk.reshape(E, N * H)),
        ("bk", bk.reshape(-1)), ("wv", wv.reshape(E, N * H)), ("bv", bv.reshape(-1)),
        ("wo", wo.reshape(N * H, E)), ("bo", bo))]
    nodes = []
    for p in ("q", "k", "v"):
        nodes += [helper.make_node("MatMul", ["x", f"w{p}"], [f"{p}_mm"]),
                  helper.make_node("Add", [f"{p}_mm", f"b{p}"], [p])]
    nodes += [helper.make_node("MultiHeadAttention", ["q", "k", "v"], ["heads"],
                               domain="com.microsoft", num_heads=N, unidirectional=int(causal)),
              helper.make_node("MatMul", ["heads", "wo"], ["out_mm"]),
              helper.make_node("Add", ["out_mm", "bo"], ["out"])]
    graph = helper.make_graph(
        nodes, "mha_layer", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [B, T, E])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [B, T, E])], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.microsoft", 1)])
    session, version = ort_session(model, threads)

    def call():
        return session.run(None, {"x": x})[0]
    return call, call, version


# ---------------------------------------------------------------------------------------------
# The recurrent layers: x (B, T, F), Keras's weights kernel (F, G U), recurrent_kernel (U, G U),
# bias; kattn's output is the last step's h (B, U).

def recurrent_torch(kind):
    def make(x, weights, _causal, threads):
        import torch
        torch.set_num_threads(threads)
        kernel, recurrent, bias = weights
        units = recurrent.shape[0]
        if kind == "lstm":  # Keras's gates i, f, c, o are PyTorch's i, f, g, o
            order = slice(None)
            biases = (bias, np.zeros_like(bias))
        else:  # Keras's z, r, h are PyTorch's r, z, n (reset_after: two biases)
            order = np.r_[units:2 * units, 0:units, 2 * units:3 * units]
            biases = (bias[0], bias[1])
        layer = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(
            x.shape[2], units, batch_first=True)
        with torch.no_grad():
            layer.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(kernel[:, order].T)))
            layer.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(recurrent[:, order].T)))
            layer.bias_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(biases[0][order])))
            layer.bias_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(biases[1][order])))
        tx = torch.from_numpy(x)

        def call():
            with torch.no_grad():
                return layer(tx)[0][:, -1]

        return (lambda: call().numpy()), call, torch.__version__
    return make


PEERS = {
    "sdpa": {"torch": sdpa_torch, "onnxruntime_mha": sdpa_onnxruntime_mha,
             "onnx_attention": sdpa_onnx_attention, "onnxruntime_gqa": sdpa_onnxruntime_gqa,
             "jax": sdpa_jax},
    "mha": {"torch": mha_torch, "onnxruntime_mha": mha_onnxruntime},
    "lstm": {"torch": recurrent_torch("lstm")},
    "gru": {"torch": recurrent_torch("gru")},
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=sorted(PEERS))
    parser.add_argument("directory", type=Path)
    parser.add_argument("peer")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--causal", action="store_true")
    parser.add_argument("--runs", type=int, default=10)
    options = parser.parse_args()
    make = PEERS[options.what].get(options.peer)
    if make is None:
        raise SystemExit(f"unknown {options.what} peer '{options.peer}': expected one of "
                         f"{', '.join(sorted(PEERS[options.what]))}")
    expected = load(options.directory, "output")
    if options.what == "sdpa":
        inputs = [load(options.directory, name) for name in ("query", "key", "value")]
    elif options.what == "mha":
        inputs = [load(options.directory, "x"), mha_weights(options.directory)]
    else:
        inputs = [load(options.directory, "x"),
                  [load(options.directory, f"weight_{i}") for i in range(3)]]
    result, call, version = make(*inputs, options.causal, options.threads)
    error = float(np.max(np.abs(result() - expected)))
    scale = float(np.max(np.abs(expected))) or 1.0
    if not error <= TOLERANCE * scale:
        print(f"{options.peer} computes something else than kattn: max |difference| {error:.3g} "
              f"against outputs up to {scale:.3g}", file=sys.stderr)
        sys.exit(2)
    median, low, high = timed(call, options.runs)
    print(json.dumps({"peer": options.peer, "version": version, "median_ms": median,
                      "min_ms": low, "max_ms": high, "max_abs_error": error}))


if __name__ == "__main__":
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    main()
