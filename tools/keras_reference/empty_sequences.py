#!/usr/bin/env python3
"""What Keras's attention layers return for empty sequences (report only).

Usage:
    KERAS_BACKEND=jax python tools/keras_reference/empty_sequences.py [--jit]

Runs keras.layers.Attention, AdditiveAttention, MultiHeadAttention and
GroupQueryAttention on a key/value sequence of length S = 0
(query (2, 3, 4), value (2, 0, 4)) and on a query of length T = 0
(query (2, 0, 4), value (2, 5, 4)), with and without masks, with and without
return_attention_scores, and prints for every call: the output shape and
what it holds (all zeros / the output projection bias broadcast / NaN /
something else), the scores' shape and content, or the error raised.

Every bias is initialised to non-zero random values so that "bias only"
and "zeros" can be told apart. Fully masked S > 0 rows are printed as a
contrast at the end.

With --jit each call also goes through a functional keras.Model and
`model.predict` (compiled by jax.jit), to check that the compiled path
agrees with the eager one.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import argparse
import traceback
import warnings

import numpy as np

import keras
from keras import layers

B, T, S, D = 2, 3, 0, 4
RNG = np.random.default_rng(0)


def bias_init(seed):
    return keras.initializers.RandomNormal(mean=0.5, stddev=0.3, seed=seed)


def describe(x, bias=None):
    x = np.asarray(x)
    shape = tuple(x.shape)
    if x.size == 0:
        return f"shape {shape} (empty)"
    if np.isnan(x).any():
        what = "all NaN" if np.isnan(x).all() else f"{int(np.isnan(x).sum())}/{x.size} NaN"
    elif np.all(x == 0):
        what = "all zeros"
    elif bias is not None and np.array_equal(x, np.broadcast_to(bias, x.shape)):
        what = "exactly the output bias broadcast (bias only)"
    elif bias is not None and np.allclose(x, np.broadcast_to(bias, x.shape), atol=1e-6):
        what = "the output bias broadcast (within 1e-6)"
    else:
        what = f"finite, not zeros/bias (min {x.min():.4g}, max {x.max():.4g})"
    return f"shape {shape}: {what}"


def run(label, make_layer, call_kwargs, inputs, bias_of=None, jit=False):
    """Build the layer, call it eagerly (and via model.predict with --jit)."""
    try:
        layer = make_layer()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = layer(*inputs["args"], **inputs.get("kwargs", {}), **call_kwargs)
        bias = bias_of(layer) if bias_of else None
        if isinstance(out, (tuple, list)):
            text = f"output {describe(out[0], bias)}; scores {describe(out[1])}"
            if np.asarray(out[1]).size:
                sc = np.asarray(out[1])
                text += f" (row sums {np.unique(np.round(sc.sum(-1), 6))})"
        else:
            text = f"output {describe(out, bias)}"
        w = sorted({str(c.message).splitlines()[0][:120] for c in caught})
        if w:
            text += f"  [warnings: {' / '.join(w)}]"
        print(f"  {label}: {text}")
        if jit:
            jit_check(label, layer, call_kwargs, inputs, out)
    except Exception as e:
        msg = str(e).strip().splitlines()
        print(f"  {label}: ERROR {type(e).__name__}: {msg[0] if msg else ''}")
        if os.environ.get("EMPTY_SEQ_TRACEBACK"):
            traceback.print_exc()


def jit_check(label, layer, call_kwargs, inputs, eager_out):
    """Same layer object inside a functional model, run through predict()."""
    try:
        arrays = [np.asarray(a) for a in inputs["args"][0]] if isinstance(
            inputs["args"][0], list
        ) else [np.asarray(a) for a in inputs["args"]]
        kw_arrays = {k: np.asarray(v) for k, v in inputs.get("kwargs", {}).items()}
        ins = [keras.Input(batch_shape=a.shape, dtype=str(a.dtype)) for a in arrays]
        kw_ins = {k: keras.Input(batch_shape=v.shape, dtype=str(v.dtype)) for k, v in kw_arrays.items()}
        if isinstance(inputs["args"][0], list):
            out = layer(list(ins), **kw_ins, **call_kwargs)
        else:
            out = layer(*ins, **kw_ins, **call_kwargs)
        model = keras.Model(ins + list(kw_ins.values()), out)
        res = model.predict(arrays + list(kw_arrays.values()), verbose=0, batch_size=B)
        e = eager_out if isinstance(eager_out, (tuple, list)) else [eager_out]
        r = res if isinstance(res, (tuple, list)) else [res]
        same = all(
            np.asarray(a).shape == np.asarray(b).shape
            and np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
            for a, b in zip(e, r)
        )
        print(f"      predict(): {'same as eager' if same else 'DIFFERS: ' + ', '.join(describe(x) for x in r)}")
    except Exception as ex:
        msg = str(ex).strip().splitlines()
        print(f"      predict(): ERROR {type(ex).__name__}: {msg[0] if msg else ''}")


def attention_cases(q, v, value_mask, jit):
    for cls, modes in ((layers.Attention, ("dot", "concat")), (layers.AdditiveAttention, (None,))):
        for mode in modes:
            for use_scale in (False, True):
                name = cls.__name__ + (f"(score_mode={mode!r}" if mode else "(") + f"{', ' if mode else ''}use_scale={use_scale})"
                print(name)

                def make(cls=cls, mode=mode, use_scale=use_scale):
                    kw = dict(use_scale=use_scale)
                    if mode:
                        kw["score_mode"] = mode
                    layer = cls(**kw)
                    return layer

                for masks, mlabel in ((None, "no mask"), ([None, value_mask], "value_mask")):
                    for causal in (False, True):
                        for scores in (False, True):
                            ck = dict(return_attention_scores=scores, use_causal_mask=causal)
                            inputs = {"args": ([q, v],)}
                            if masks is not None:
                                inputs["kwargs"] = {"mask": masks}
                            label = f"{mlabel}, use_causal_mask={causal}, return_attention_scores={scores}"
                            # masks travel as a kwarg list; the jit path would need Inputs for them
                            run(label, make, ck, inputs, jit=jit and masks is None)


def mha_cases(q, v, attention_mask, jit, gqa=False):
    if gqa:
        title = "GroupQueryAttention(head_dim=3, num_query_heads=2, num_key_value_heads=1)"

        def make():
            return layers.GroupQueryAttention(
                head_dim=3, num_query_heads=2, num_key_value_heads=1,
                use_bias=True, bias_initializer=bias_init(1),
            )

        def bias_of(layer):
            return np.asarray(layer._output_dense.bias)
    else:
        title = "MultiHeadAttention(num_heads=2, key_dim=3)"

        def make():
            return layers.MultiHeadAttention(num_heads=2, key_dim=3, bias_initializer=bias_init(1))

        def bias_of(layer):
            return np.asarray(layer._output_dense.bias)

    print(title)
    for am, mlabel in ((None, "no attention_mask"), (attention_mask, f"attention_mask {tuple(attention_mask.shape)}")):
        for causal in (False, True):
            for scores in (False, True):
                ck = dict(return_attention_scores=scores, use_causal_mask=causal)
                inputs = {"args": (q, v)}
                if am is not None:
                    inputs["kwargs"] = {"attention_mask": am}
                label = f"{mlabel}, use_causal_mask={causal}, return_attention_scores={scores}"
                run(label, make, ck, inputs, bias_of=bias_of, jit=jit)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jit", action="store_true", help="also run each case through model.predict")
    args = ap.parse_args()
    import jax

    print(f"Keras {keras.__version__}, backend {keras.backend.backend()}, jax {jax.__version__}")
    keras.utils.set_random_seed(0)

    for title, tq, sv in (("S = 0 (query (2, 3, 4), value/key (2, 0, 4))", T, S),
                          ("T = 0 (query (2, 0, 4), value/key (2, 5, 4))", 0, 5)):
        print("\n" + "=" * 78 + "\n" + title + "\n" + "=" * 78)
        q = RNG.standard_normal((B, tq, D)).astype("float32")
        v = RNG.standard_normal((B, sv, D)).astype("float32")
        value_mask = np.zeros((B, sv), dtype=bool)  # every (existing) position masked
        attention_mask = np.zeros((B, tq, sv), dtype=bool)
        attention_cases(q, v, value_mask, args.jit)
        mha_cases(q, v, attention_mask, args.jit)
        mha_cases(q, v, attention_mask, args.jit, gqa=True)

    print("\n" + "=" * 78 + "\ncontrast: S = 2 with every key masked out\n" + "=" * 78)
    q = RNG.standard_normal((B, T, D)).astype("float32")
    v = RNG.standard_normal((B, 2, D)).astype("float32")
    print("Attention(score_mode='dot'), value_mask all False")
    run("return_attention_scores=True", lambda: layers.Attention(), dict(return_attention_scores=True),
        {"args": ([q, v],), "kwargs": {"mask": [None, np.zeros((B, 2), bool)]}})
    print(f"  (mean of the values over S: {np.round(v.mean(1), 4).tolist()})")
    print("MultiHeadAttention(num_heads=2, key_dim=3), attention_mask all False")
    for scores in (False, True):
        run(f"return_attention_scores={scores}",
            lambda: layers.MultiHeadAttention(num_heads=2, key_dim=3, bias_initializer=bias_init(1)),
            dict(return_attention_scores=scores),
            {"args": (q, v), "kwargs": {"attention_mask": np.zeros((B, T, 2), bool)}},
            bias_of=lambda l: np.asarray(l._output_dense.bias))
    print("GroupQueryAttention(head_dim=3, num_query_heads=2, num_key_value_heads=1), attention_mask all False")
    for scores in (False, True):
        run(f"return_attention_scores={scores}",
            lambda: layers.GroupQueryAttention(head_dim=3, num_query_heads=2, num_key_value_heads=1,
                                               bias_initializer=bias_init(1)),
            dict(return_attention_scores=scores),
            {"args": (q, v), "kwargs": {"attention_mask": np.zeros((B, T, 2), bool)}},
            bias_of=lambda l: np.asarray(l._output_dense.bias))
    print("  (the return_attention_scores=False rows go through ops.dot_product_attention, whose")
    print("   all-masked rows are a uniform average of the projected values; the True rows go")
    print("   through keras.layers.Softmax(mask), which zeroes all-masked rows)")


if __name__ == "__main__":
    main()
