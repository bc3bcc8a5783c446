#!/usr/bin/env python3
"""Generate the Keras reference cases (training and inference) with real Keras.

Usage:
    KERAS_BACKEND=jax python tools/keras_reference/generate.py OUT_DIR

Every case below is (re)written into OUT_DIR/<case>/ (an existing case
directory is deleted first), then OUT_DIR/index.json and OUT_DIR/README.md are
written. Everything is seeded, so a rerun reproduces every .npy file and every
number in the JSON files bit for bit (the .keras zip archives differ only in
their `date_saved` and zip timestamps).

See tools/keras_reference/README.md and the README.md written into OUT_DIR.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import io
import json
import shutil
import sys
import warnings
import zipfile
from pathlib import Path

import h5py
import numpy as np

import keras
from keras import layers

if keras.backend.backend() != "jax":
    sys.exit(
        "generate.py needs the JAX backend (KERAS_BACKEND=jax); "
        f"got {keras.backend.backend()!r}"
    )

import jax  # noqa: E402  (only for its version)

BACKEND = keras.backend.backend()
FORMAT_VERSION = 1
BATCH = 4

# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def reset(seed):
    """Fresh Keras naming state and seeded Keras/numpy RNGs."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)


def fan_in(path, shape):
    # MultiHeadAttention's query/key/value EinsumDense kernels are
    # (input_dim, num_heads, key_dim): only axis 0 is summed over.
    leaf = path.split("/")
    if len(leaf) >= 2 and leaf[-2] in ("query", "key", "value") and len(shape) == 3:
        return int(shape[0])
    return int(np.prod(shape[:-1]))


def randomize_weights(model, rng):
    """Replace every weight by a random value (no zeros/ones left)."""
    for v in model.weights:
        kind = v.path.split("/")[-1]
        shape = tuple(v.shape)
        if kind == "kernel":
            val = rng.standard_normal(shape) / np.sqrt(fan_in(v.path, shape))
        elif kind == "bias" or kind == "beta":
            val = 0.3 * rng.standard_normal(shape)
        elif kind == "gamma":
            val = rng.uniform(0.6, 1.4, shape)
        elif kind == "embeddings":
            val = rng.standard_normal(shape)
        else:
            raise ValueError(f"no randomization rule for weight {v.path}")
        v.assign(val.astype(v.dtype))


def save_npy(path, arr):
    np.save(path, np.ascontiguousarray(arr), allow_pickle=False)


def keras_zip_json(keras_file, member):
    with zipfile.ZipFile(keras_file) as z:
        return json.loads(z.read(member))


def read_h5_datasets(keras_file):
    """{dataset path: numpy array} of model.weights.h5 inside a .keras file."""
    with zipfile.ZipFile(keras_file) as z:
        raw = z.read("model.weights.h5")
    out = {}
    with h5py.File(io.BytesIO(raw), "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[()]
        f.visititems(visit)
    return out


def weights_table(model, keras_file):
    """Map every model variable to its dataset in model.weights.h5.

    All weights are random, so each variable matches exactly one dataset by
    value; the match is checked to be one-to-one.
    """
    datasets = {k: v for k, v in read_h5_datasets(keras_file).items()
                if k.startswith("layers/")}
    table, used = [], set()
    for v in model.weights:
        val = np.asarray(v.numpy())
        hits = [k for k, d in datasets.items()
                if d.shape == val.shape and d.dtype == val.dtype
                and np.array_equal(d, val)]
        if len(hits) != 1:
            raise AssertionError(f"{v.path}: h5 matches {hits}")
        if hits[0] in used:
            raise AssertionError(f"{hits[0]} matched twice")
        used.add(hits[0])
        table.append({"path": v.path, "h5_dataset": hits[0],
                      "shape": list(val.shape), "dtype": str(val.dtype),
                      "trainable": bool(v.trainable)})
    if len(used) != len(datasets):
        raise AssertionError(f"unmatched datasets {set(datasets) - used}")
    return table


def optimizer_table(opt_vars, keras_file):
    """Optimizer variables as saved: index, h5 path, name, shape, dtype."""
    datasets = read_h5_datasets(keras_file)
    saved = sorted((k for k in datasets if k.startswith("optimizer/vars/")),
                   key=lambda k: int(k.rsplit("/", 1)[1]))
    if len(saved) != len(opt_vars):
        raise AssertionError(f"{keras_file}: {len(saved)} saved optimizer "
                             f"variables, {len(opt_vars)} in memory")
    rows = []
    for i, v in enumerate(opt_vars):
        d = datasets[f"optimizer/vars/{i}"]
        if tuple(d.shape) != tuple(v.shape) or str(d.dtype) != str(v.dtype):
            raise AssertionError(f"optimizer/vars/{i} does not match {v.path}")
        if not np.array_equal(d, np.asarray(v.numpy())):
            raise AssertionError(f"optimizer/vars/{i} value != {v.path}")
        rows.append({"index": i, "h5_dataset": f"optimizer/vars/{i}",
                     "name": v.path, "shape": list(d.shape),
                     "dtype": str(d.dtype)})
    return rows, datasets


def max_abs_diff(xs, ys):
    m = 0.0
    assert len(xs) == len(ys)
    for a, b in zip(xs, ys):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype
        if a.size:
            m = max(m, float(np.max(np.abs(a.astype(np.float64) -
                                           b.astype(np.float64)))))
    return m


def load_with_warnings(path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = keras.saving.load_model(path)
    msgs = sorted({str(w.message).strip() for w in caught
                   if "Skipping variable loading" in str(w.message)})
    return model, msgs


def input_entries(model, arrays):
    rows = []
    for kt, arr in zip(model.inputs, arrays):
        name = kt._keras_history[0].name
        rows.append({"name": name, "file": f"{name}.npy",
                     "shape": list(arr.shape), "dtype": str(arr.dtype),
                     "model_shape": list(kt.shape)})
    return rows


def feed(arrays):
    return arrays[0] if len(arrays) == 1 else list(arrays)


def as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def model_layer_classes(model):
    return [type(l).__name__ for l in model.layers]


def op_nodes_of(config):
    rows = []
    for entry in config["config"]["layers"]:
        if entry["module"].startswith("keras.src.ops"):
            rows.append({
                "name": entry["name"],
                "class_name": entry["class_name"],
                "module": entry["module"],
                "config": entry["config"],
                "inbound_nodes": entry["inbound_nodes"],
            })
    return rows


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=False)
        f.write("\n")


def fresh_dir(out_dir, name):
    d = Path(out_dir) / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    return d


def case_header(name, kind, model):
    return {
        "format_version": FORMAT_VERSION,
        "case": name,
        "kind": kind,
        "keras_version": keras.__version__,
        "backend": BACKEND,
        "model_file": "model.keras",
        "model_name": model.name,
        "layer_classes": model_layer_classes(model),
    }


# --------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------


def build_mha_classifier():
    x = keras.Input((6, 8), name="x")
    a = layers.MultiHeadAttention(num_heads=2, key_dim=4, name="mha")(x, x)
    h = x + a
    h = layers.LayerNormalization(name="norm")(h)
    h = layers.GlobalAveragePooling1D(name="pool")(h)
    out = layers.Dense(3, activation="softmax", name="probs")(h)
    return keras.Model(x, out, name="mha_classifier")


def build_regressor():
    x = keras.Input((6, 8), name="x")
    d = layers.Dense(8, activation="relu", name="hidden")(x)
    h = d * 0.5 + x
    h = h - keras.ops.divide(d, 4.0)
    h = layers.GlobalAveragePooling1D(name="pool")(h)
    out = layers.Dense(1, name="value")(h)
    return keras.Model(x, out, name="regressor")


# ---- keras.io "Timeseries classification with a Transformer model" --------
# transformer_encoder and build_model as the example's source writes them.
# build_model reads the module-level n_classes, as in the example.

n_classes = 2


def transformer_encoder(inputs, head_size, num_heads, ff_dim, dropout=0):
    # Attention and Normalization
    x = layers.MultiHeadAttention(
        key_dim=head_size, num_heads=num_heads, dropout=dropout
    )(inputs, inputs)
    x = layers.Dropout(dropout)(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    res = x + inputs

    # Feed Forward Part
    x = layers.Conv1D(filters=ff_dim, kernel_size=1, activation="relu")(res)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv1D(filters=inputs.shape[-1], kernel_size=1)(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    return x + res


def build_model(
    input_shape,
    head_size,
    num_heads,
    ff_dim,
    num_transformer_blocks,
    mlp_units,
    dropout=0,
    mlp_dropout=0,
):
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for _ in range(num_transformer_blocks):
        x = transformer_encoder(x, head_size, num_heads, ff_dim, dropout)

    x = layers.GlobalAveragePooling1D(data_format="channels_first")(x)
    for dim in mlp_units:
        x = layers.Dense(dim, activation="relu")(x)
        x = layers.Dropout(mlp_dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def build_timeseries(dropout, mlp_dropout):
    return build_model(
        (24, 1),
        head_size=16,
        num_heads=2,
        ff_dim=4,
        num_transformer_blocks=2,
        mlp_units=[32],
        mlp_dropout=mlp_dropout,
        dropout=dropout,
    )


def compile_timeseries(model):
    # as the example compiles it
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate=1e-4),
        metrics=["sparse_categorical_accuracy"],
    )


def build_text_classifier(mask_zero):
    inputs = layers.Input(shape=(10,), name="tokens")
    e = layers.Embedding(50, 16, mask_zero=mask_zero, name="embed")(inputs)
    att = layers.MultiHeadAttention(num_heads=2, key_dim=8, name="mha")(e, e)
    h = e + att
    h = layers.GlobalAveragePooling1D(name="pool")(h)
    out = layers.Dense(2, activation="softmax", name="probs")(h)
    return keras.Model(inputs, out, name="text_classifier")


OPS_EXPECTED = [
    ("a + b", "Add"),
    ("a - c", "Subtract"),
    ("a * b", "Multiply"),
    ("a / (b * b + 1.0)", "TrueDivide"),
    ("keras.ops.divide(a, c + 2.0)", "Divide"),
    ("keras.ops.true_divide(a, 3.0)", "TrueDivide"),
    ("2.0 - a", "Subtract"),
    ("a * 2", "Multiply"),
    ("1.0 / (a * a + 1.0)", "TrueDivide"),
    ("keras.ops.add(a, d)", "Add"),
    ("keras.ops.subtract(d, b)", "Subtract"),
    ("keras.ops.multiply(c, b)", "Multiply"),
]


def build_ops_model():
    a = keras.Input((5, 4), name="a")
    b = keras.Input((5, 1), name="b")
    c = keras.Input((1, 4), name="c")
    d = layers.Dense(4, name="proj")(a)
    outs = [
        a + b,
        a - c,
        a * b,
        a / (b * b + 1.0),
        keras.ops.divide(a, c + 2.0),
        keras.ops.true_divide(a, 3.0),
        2.0 - a,
        a * 2,
        1.0 / (a * a + 1.0),
        keras.ops.add(a, d),
        keras.ops.subtract(d, b),
        keras.ops.multiply(c, b),
    ]
    return keras.Model([a, b, c], outs, name="ops_arithmetic_nodes")


# --------------------------------------------------------------------------
# training cases
# --------------------------------------------------------------------------


def mha_classifier_data(seed):
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal((BATCH, 6, 8)).astype(np.float32)
    y = np.array([0, 2, 1, 2], dtype=np.float32)
    return x, y


def regressor_data(seed):
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal((BATCH, 6, 8)).astype(np.float32)
    y = rng.standard_normal((BATCH, 1)).astype(np.float32)
    return x, y


def timeseries_train_data(seed):
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal((BATCH, 24, 1)).astype(np.float32)
    y = np.array([1, 0, 0, 1], dtype=np.float32)
    return x, y


SEED_M1 = 3101
SEED_M2 = 3201
SEED_M3 = 3301


def training_specs():
    sparse_cce = "sparse_categorical_crossentropy"
    opt = keras.optimizers
    m1 = dict(build=build_mha_classifier, seed=SEED_M1,
              data=mha_classifier_data, loss=lambda: sparse_cce,
              metrics=["accuracy"], model_label="mha_classifier")
    specs = [
        ("train_sgd_momentum_0", m1, lambda: opt.SGD(learning_rate=0.05, momentum=0.9), 0),
        ("train_sgd_momentum_3", m1, lambda: opt.SGD(learning_rate=0.05, momentum=0.9), 3),
        ("train_sgd_nesterov_3", m1,
         lambda: opt.SGD(learning_rate=0.05, momentum=0.9, nesterov=True), 3),
        ("train_adam_0", m1, lambda: opt.Adam(learning_rate=0.01), 0),
        ("train_adam_3", m1, lambda: opt.Adam(learning_rate=0.01), 3),
        ("train_adamw_3", m1,
         lambda: opt.AdamW(learning_rate=0.01, weight_decay=0.05), 3),
        ("train_adam_amsgrad_3", m1,
         lambda: opt.Adam(learning_rate=0.01, amsgrad=True), 3),
        ("train_regressor_adam_string_2",
         dict(build=build_regressor, seed=SEED_M2, data=regressor_data,
              loss=lambda: keras.losses.MeanSquaredError(), metrics=None,
              model_label="regressor"),
         lambda: "adam", 2),
        ("train_timeseries_adam_2",
         dict(build=lambda: build_timeseries(dropout=0, mlp_dropout=0),
              seed=SEED_M3, data=timeseries_train_data,
              loss=lambda: sparse_cce, metrics=["sparse_categorical_accuracy"],
              model_label="timeseries_transformer (dropout=0, mlp_dropout=0)"),
         lambda: opt.Adam(learning_rate=1e-4), 2),
    ]
    return specs


def build_compiled(spec, make_opt):
    reset(spec["seed"])
    model = spec["build"]()
    randomize_weights(model, np.random.default_rng(spec["seed"]))
    compile_kwargs = dict(optimizer=make_opt(), loss=spec["loss"]())
    if spec["metrics"] is not None:
        compile_kwargs["metrics"] = list(spec["metrics"])
    model.compile(**compile_kwargs)
    return model


def to_floats(logs):
    return {k: float(np.asarray(v)) for k, v in logs.items()}


def training_case_fields(spec, model, in_entry, y):
    """The case.json fields every training case has: model, inputs, outputs, targets, batch."""
    return {
        "model": spec["model_label"],
        "inputs": [in_entry],
        "outputs": [{"index": i, "name": n} for i, n in
                    enumerate(model.output_names)],
        "output_names": list(model.output_names),
        "targets": {"file": "y.npy", "shape": list(y.shape),
                    "dtype": str(y.dtype)},
        "batch_size": BATCH,
    }


def make_training_case(out_dir, name, spec, make_opt, steps):
    d = fresh_dir(out_dir, name)
    x, y = spec["data"](spec["seed"])
    model = build_compiled(spec, make_opt)
    initial_weights = [np.asarray(v.numpy()) for v in model.weights]
    if steps:
        model.fit(x, y, batch_size=BATCH, epochs=steps, shuffle=False,
                  verbose=0)
    model_file = d / "model.keras"
    model.save(model_file)
    saved_opt_vars = list(model.optimizer.variables)
    opt_rows, _ = optimizer_table(saved_opt_vars, model_file)
    weights = weights_table(model, model_file)
    predict = model.predict(x, verbose=0)

    (in_entry,) = input_entries(model, [x])
    save_npy(d / in_entry["file"], x)
    save_npy(d / "y.npy", y)
    save_npy(d / "predict.npy", predict)

    # resume as a user would
    m2, load_msgs = load_with_warnings(model_file)
    predict_reloaded = m2.predict(x, verbose=0)
    if not np.array_equal(predict, predict_reloaded):
        raise AssertionError(f"{name}: reloaded predict differs")
    logs = m2.train_on_batch(x, y, return_dict=True)
    after_file = d / "after.keras"
    m2.save(after_file)
    after_rows, after_ds = optimizer_table(list(m2.optimizer.variables),
                                           after_file)

    # continue the in-memory model the same way
    logs_mem = model.train_on_batch(x, y, return_dict=True)
    diff_w = max_abs_diff([v.numpy() for v in model.weights],
                          [v.numpy() for v in m2.weights])
    diff_o = max_abs_diff([v.numpy() for v in model.optimizer.variables],
                          [v.numpy() for v in m2.optimizer.variables])
    resume_diff = max(diff_w, diff_o)
    if resume_diff > 1e-6:
        raise AssertionError(f"{name}: resumed != in-memory ({resume_diff})")
    if [v.path for v in model.optimizer.variables] != \
            [v.path for v in m2.optimizer.variables]:
        raise AssertionError(f"{name}: optimizer variable names differ")

    changed = max_abs_diff(initial_weights, [v.numpy() for v in model.weights])
    assert changed > 0, "training did not change the weights"

    compile_config = keras_zip_json(model_file, "config.json")["compile_config"]
    iteration_saved = None
    if opt_rows and opt_rows[0]["name"].endswith("/iteration"):
        iteration_saved = int(read_h5_datasets(model_file)["optimizer/vars/0"])
    case = case_header(name, "training", model)
    case.update({
        **training_case_fields(spec, model, in_entry, y),
        "steps": steps,
        "fit_call": (None if not steps else
                     f"model.fit(x, y, batch_size={BATCH}, epochs={steps}, "
                     "shuffle=False, verbose=0)"),
        "optimizer_class": type(model.optimizer).__name__,
        "optimizer_config": compile_config["optimizer"] if isinstance(
            compile_config["optimizer"], str) else
            compile_config["optimizer"]["config"],
        "compile_config": compile_config,
        "predict_file": "predict.npy",
        "predict_shape": list(predict.shape),
        "weights": weights,
        "optimizer_variables": {
            "model.keras": opt_rows,
            "after.keras": after_rows,
        },
        "optimizer_iterations": {
            "model.keras": iteration_saved,
            "after.keras": int(after_ds["optimizer/vars/0"]),
        },
        "load_warnings": load_msgs,
        "after_file": "after.keras",
        "after_call": "m2 = keras.saving.load_model('model.keras'); "
                      "m2.train_on_batch(x, y, return_dict=True); "
                      "m2.save('after.keras')",
        "train_on_batch_logs": to_floats(logs),
        "in_memory_train_on_batch_logs": to_floats(logs_mem),
        "resume_vs_in_memory_max_abs_diff": resume_diff,
    })
    write_json(d / "case.json", case)
    return case


def make_rmsprop_case(out_dir):
    name = "compiled_rmsprop_1"
    d = fresh_dir(out_dir, name)
    spec = dict(build=build_mha_classifier, seed=SEED_M1,
                data=mha_classifier_data,
                loss=lambda: "sparse_categorical_crossentropy",
                metrics=["accuracy"], model_label="mha_classifier")
    x, y = spec["data"](spec["seed"])
    model = build_compiled(spec, lambda: keras.optimizers.RMSprop(learning_rate=0.01))
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    model_file = d / "model.keras"
    model.save(model_file)
    predict = model.predict(x, verbose=0)
    m2, _ = load_with_warnings(model_file)
    if not np.array_equal(predict, m2.predict(x, verbose=0)):
        raise AssertionError(f"{name}: reloaded predict differs")
    opt_rows, _ = optimizer_table(list(model.optimizer.variables), model_file)
    (in_entry,) = input_entries(model, [x])
    save_npy(d / in_entry["file"], x)
    save_npy(d / "y.npy", y)
    save_npy(d / "predict.npy", predict)
    compile_config = keras_zip_json(model_file, "config.json")["compile_config"]
    case = case_header(name, "training_unsupported_optimizer", model)
    case.update({
        **training_case_fields(spec, model, in_entry, y),
        "steps": 1,
        "optimizer_class": "RMSprop",
        "optimizer_config": compile_config["optimizer"]["config"],
        "compile_config": compile_config,
        "predict_file": "predict.npy",
        "predict_shape": list(predict.shape),
        "weights": weights_table(model, model_file),
        "optimizer_variables": {"model.keras": opt_rows},
        "notes": ["A compiled model whose optimizer (RMSprop) a runtime "
                  "without RMSprop support should still load and run "
                  "(predict.npy), but refuse to train."],
    })
    write_json(d / "case.json", case)
    return case


# --------------------------------------------------------------------------
# inference cases
# --------------------------------------------------------------------------


def finish_inference_case(d, name, model, inputs, extra):
    """Save, reload, predict with the reloaded model, write files."""
    model_file = d / "model.keras"
    model.save(model_file)
    out_mem = as_list(model.predict(feed(inputs), verbose=0))
    reloaded, _ = load_with_warnings(model_file)
    outs = as_list(reloaded.predict(feed(inputs), verbose=0))
    if len(outs) != len(out_mem) or not all(
            np.array_equal(a, b) for a, b in zip(outs, out_mem)):
        raise AssertionError(f"{name}: reloaded outputs differ")
    call_outs = as_list(reloaded(feed(inputs), training=False))
    call_diff = max_abs_diff([np.asarray(o) for o in call_outs], outs)
    in_entries = input_entries(model, inputs)
    for e, arr in zip(in_entries, inputs):
        save_npy(d / e["file"], arr)
    out_entries = []
    for i, (n, arr) in enumerate(zip(reloaded.output_names, outs)):
        f = f"output_{i}_{n}.npy"
        save_npy(d / f, arr)
        out_entries.append({"index": i, "name": n, "file": f,
                            "shape": list(arr.shape), "dtype": str(arr.dtype)})
    config = keras_zip_json(model_file, "config.json")
    case = case_header(name, "inference", model)
    case.update({
        "inputs": in_entries,
        "outputs": out_entries,
        "output_names": list(reloaded.output_names),
        "call_args": {"training": False},
        "predict_vs_call_max_abs_diff": call_diff,
        "compiled": bool(config.get("compile_config")),
        "compile_config": config.get("compile_config"),
        "weights": weights_table(model, model_file),
    })
    case.update(extra)
    write_json(d / "case.json", case)
    return case, config


def make_timeseries_inference(out_dir):
    name = "timeseries_transformer"
    seed = 3401
    d = fresh_dir(out_dir, name)
    reset(seed)
    model = build_timeseries(dropout=0.25, mlp_dropout=0.4)
    randomize_weights(model, np.random.default_rng(seed))
    compile_timeseries(model)
    x = np.random.default_rng(seed + 1).standard_normal((3, 24, 1)).astype(np.float32)
    input_name = model.inputs[0]._keras_history[0].name
    case, _ = finish_inference_case(d, name, model, [x], {
        "notes": [
            "keras.io example 'Timeseries classification with a Transformer "
            "model': transformer_encoder and build_model as its source writes "
            "them, with input_shape=(24, 1), head_size=16, num_heads=2, "
            "ff_dim=4, num_transformer_blocks=2, mlp_units=[32], "
            "mlp_dropout=0.4, dropout=0.25, n_classes=2, compiled as the "
            "example (Adam(learning_rate=1e-4), "
            "sparse_categorical_crossentropy, sparse_categorical_accuracy).",
            f"The example does not name its Input; Keras names it "
            f"{input_name!r}.",
            "GlobalAveragePooling1D(data_format='channels_first') on a "
            "(batch, 24, 1) tensor averages over the LAST axis (the single "
            "feature), giving (batch, 24).",
            "Dropout is inactive at inference (training=False).",
        ],
    })
    return case


def text_ids():
    return np.array([
        [5, 12, 3.7, 8, 49, 0, 0, 0, 0, 0],
        [12.2, 7, 0.5, 33, 2, 9, 14, 0, 0, 0],
        [45, 3, 0.5, 0.5, 22, 17, 6, 11, 49.9, 21],
    ], dtype=np.float32)


def make_text_case(out_dir, mask_zero):
    name = "text_classifier_float_ids" + ("" if mask_zero else "_nomask")
    seed = 3501  # same weights for both variants
    d = fresh_dir(out_dir, name)
    reset(seed)
    model = build_text_classifier(mask_zero)
    randomize_weights(model, np.random.default_rng(seed))
    ids = text_ids()

    def run(arr):
        return np.asarray(model(arr, training=False))

    base = run(ids)
    # where the Keras mask goes: MultiHeadAttention and the pooling
    sub = keras.Model(model.inputs, [
        model.get_layer("embed").output, model.get_layer("mha").output,
        model.get_layer("pool").input, model.get_layer("pool").output])
    e, att, h, pooled = [np.asarray(t) for t in sub(ids, training=False)]
    att_unmasked = np.asarray(model.get_layer("mha")(e, e))  # no Keras mask
    valid = (ids != 0).astype(np.float32)[..., None]
    masked_mean = (h * valid).sum(1) / valid.sum(1)
    trunc = np.trunc(ids)
    # ids truncated, except the values in (0, 1) kept as they are
    trunc_keep_small = np.where((ids > 0) & (ids < 1), ids, trunc)
    rounded = np.round(ids)
    facts = {
        "output_equals_output_of_truncated_ids": bool(
            np.array_equal(base, run(trunc))),
        "output_equals_output_of_truncated_ids_keeping_0.5": bool(
            np.array_equal(base, run(trunc_keep_small))),
        "output_equals_output_of_rounded_ids": bool(
            np.array_equal(base, run(rounded))),
        "mha_output_equals_call_without_mask": bool(
            np.allclose(att, att_unmasked, rtol=0, atol=1e-6)),
        "pool_equals_mean_over_all_10_steps": bool(
            np.allclose(pooled, h.mean(1), rtol=0, atol=1e-6)),
        "pool_equals_mean_over_steps_with_id_ne_0": bool(
            np.allclose(pooled, masked_mean, rtol=0, atol=1e-6)),
    }
    if mask_zero:
        keras_mask = np.asarray(model.get_layer("embed").compute_mask(ids))
        facts["embedding_mask"] = keras_mask.astype(int).tolist()
        facts["embedding_mask_equals_ids_ne_0"] = bool(
            np.array_equal(keras_mask, ids != 0))
        notes = [
            "Embedding.call casts non-integer inputs with "
            "ops.cast(inputs, 'int32'), which truncates toward zero: 3.7 -> 3, "
            "12.2 -> 12, 49.9 -> 49, 0.5 -> 0 (the lookups use these ids).",
            "Embedding.compute_mask (mask_zero=True) is "
            "ops.not_equal(inputs, 0) on the RAW float inputs: 0.5 is "
            "not 0, so a 0.5 position is unmasked (True) even though it looks "
            "up row 0. Feeding trunc(ids) instead changes the mask and "
            "the output; feeding trunc(ids) with the 0.5 values kept gives "
            "the same output bit for bit.",
            "The mask reaches MultiHeadAttention (called on e, e: query and "
            "value masks; its output differs from a call without mask). The "
            "keras.ops Add node (h = e + att) does NOT pass the Keras mask "
            "on: config.json records GlobalAveragePooling1D's node with "
            "kwargs {'mask': None}, and at run time the pooling averages "
            "over all 10 steps, padding included.",
        ]
    else:
        notes = [
            "Embedding.call casts non-integer inputs with "
            "ops.cast(inputs, 'int32'), which truncates toward zero: 3.7 -> 3, "
            "12.2 -> 12, 49.9 -> 49, 0.5 -> 0. Without mask_zero, feeding "
            "trunc(ids) gives the same output bit for bit; rounding does not.",
        ]
    case, config = finish_inference_case(d, name, model, [ids], {
        "mask_zero": mask_zero,
        "facts": facts,
        "notes": notes,
    })
    case["op_nodes"] = [{k: n[k] for k in ("name", "class_name", "module")}
                        for n in op_nodes_of(config)]
    pool_entry = [l for l in config["config"]["layers"]
                  if l["name"] == "pool"][0]
    case["pool_node_kwargs"] = pool_entry["inbound_nodes"][0]["kwargs"]
    write_json(d / "case.json", case)
    assert facts["output_equals_output_of_truncated_ids_keeping_0.5"]
    assert not facts["output_equals_output_of_rounded_ids"]
    assert facts["pool_equals_mean_over_all_10_steps"]
    if mask_zero:
        assert not facts["output_equals_output_of_truncated_ids"]
        assert facts["embedding_mask_equals_ids_ne_0"]
        assert not facts["mha_output_equals_call_without_mask"]
        assert not facts["pool_equals_mean_over_steps_with_id_ne_0"]
    else:
        assert facts["output_equals_output_of_truncated_ids"]
    return case


def make_ops_case(out_dir):
    name = "ops_arithmetic_nodes"
    seed = 3601
    d = fresh_dir(out_dir, name)
    reset(seed)
    model = build_ops_model()
    randomize_weights(model, np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1)
    a = rng.standard_normal((3, 5, 4)).astype(np.float32)
    b = rng.standard_normal((3, 5, 1)).astype(np.float32)
    c = rng.standard_normal((3, 1, 4)).astype(np.float32)
    case, config = finish_inference_case(d, name, model, [a, b, c], {})
    ops = op_nodes_of(config)
    by_name = {o["name"]: o for o in ops}
    outs = config["config"]["output_layers"]
    expected_rows = []
    for (expr, cls), triple, oname in zip(OPS_EXPECTED, outs, model.output_names):
        node = by_name[triple[0]]
        if node["class_name"] != cls or node["module"] != "keras.src.ops.numpy":
            raise AssertionError(f"{expr}: {node['class_name']} {node['module']}")
        assert oname == triple[0]
        expected_rows.append({"expression": expr, "output_name": oname,
                              "class_name": cls})
    case["output_expressions"] = expected_rows
    case["op_nodes"] = [{
        "name": o["name"], "class_name": o["class_name"],
        "module": o["module"], "registered_name": o["class_name"],
        "config": o["config"],
        "args": o["inbound_nodes"][0]["args"],
        "kwargs": o["inbound_nodes"][0]["kwargs"],
    } for o in ops]
    for o in ops:
        assert len(o["inbound_nodes"]) == 1
    case["notes"] = [
        "Outputs are keras.ops nodes without layer names: Keras names them "
        "after the op (add, subtract, multiply, true_divide, divide, with _1, "
        "_2, ... suffixes in creation order); model.output_names are those "
        "names.",
        "Python operators on KerasTensors become Add/Subtract/Multiply/"
        "TrueDivide nodes; a Python scalar operand is stored as a plain "
        "literal in the node's args, in operand order (2.0 - a is "
        "Subtract(2.0, a); 1.0 / t is TrueDivide(1.0, t); a * 2 keeps the "
        "int literal 2).",
        "keras.ops.divide is its own class, Divide; keras.ops.true_divide "
        "and the / operator are TrueDivide. Both compute a / b.",
        "Broadcasting follows numpy: (B,5,4) with (B,5,1) or (B,1,4); "
        "multiply(c, b) gives (B,5,4).",
    ]
    write_json(d / "case.json", case)
    return case


# --------------------------------------------------------------------------
# README / index
# --------------------------------------------------------------------------

README_TEMPLATE = """\
# Keras reference cases: training state and inference

Produced by `tools/keras_reference/generate.py` with real Keras
{keras_version} (backend `{backend}`, jax {jax_version}, numpy
{numpy_version}, CPU, float32). Regenerate with

    KERAS_BACKEND=jax .venv-keras/bin/python tools/keras_reference/generate.py tests/data/keras_reference

(`tools/keras_reference/README.md` says how to create `.venv-keras`). All
seeds are fixed: a rerun rewrites the same `.npy` files and the same numbers
in every `case.json`; only the `.keras` zip archives differ (their
`date_saved` and zip timestamps), not their contents.

Every weight of every model is set to random values after the model is built
and before it is compiled or trained: kernels normal / sqrt(fan-in) (for the
MultiHeadAttention query/key/value kernels, shape (in, heads, dim), the
fan-in is `in`; otherwise the product of all axes but the last), biases and
LayerNormalization beta 0.3 x normal, gamma uniform [0.6, 1.4], embeddings
normal. No default initial value (zeros, ones) is left.

## Top level

- `README.md`: this file.
- `index.json`: `format_version`, `keras_version`, `jax_version`,
  `numpy_version`, `h5py_version`, `backend`, `num_cases`, `total_bytes`,
  and `cases`:
  `case`, `kind`, `bytes`.
- one directory per case.

## Cases

| case | kind | model | optimizer | steps |
| --- | --- | --- | --- | --- |
{case_table}

Kinds:

- `training`: a compiled model saved after `steps` training steps, plus the
  state Keras reaches after one more step taken by a user who reloads it.
- `training_unsupported_optimizer`: a compiled, trained model whose optimizer
  (RMSprop) a runtime without RMSprop should load and run but refuse to
  train.
- `inference`: a model and the outputs `model.predict` gives for the stored
  inputs.

## Models

- `mha_classifier`: `x = Input((6, 8), name="x")`;
  `a = MultiHeadAttention(num_heads=2, key_dim=4, name="mha")(x, x)`;
  `h = x + a` (a keras.ops `Add` node, not an `Add` layer);
  `LayerNormalization(name="norm")`; `GlobalAveragePooling1D(name="pool")`;
  `Dense(3, activation="softmax", name="probs")`. Loss
  `"sparse_categorical_crossentropy"`, metrics `["accuracy"]`. All cases of
  this model share the initial weights and the batch (x, y).
- `regressor`: `x = Input((6, 8), name="x")`;
  `d = Dense(8, activation="relu", name="hidden")(x)`; `h = d * 0.5 + x`
  (op nodes Multiply with the literal 0.5, then Add);
  `h = h - keras.ops.divide(d, 4.0)` (Divide, Subtract);
  `GlobalAveragePooling1D(name="pool")`; `Dense(1, name="value")`. Compiled
  with `optimizer="adam"` (a string: saved as a full Adam config with the
  default learning rate 0.001) and `loss=keras.losses.MeanSquaredError()` (an
  object: saved as a serialized loss), no metrics.
- timeseries Transformer: the keras.io example "Timeseries classification
  with a Transformer model", `transformer_encoder` and `build_model` as its
  source writes them (post-norm blocks: MultiHeadAttention, Dropout,
  LayerNormalization(epsilon=1e-6), `res = x + inputs`, Conv1D(ff_dim, 1,
  relu), Dropout, Conv1D(features, 1), LayerNormalization, `x + res`; then
  `GlobalAveragePooling1D(data_format="channels_first")`, Dense(32, relu),
  Dropout(mlp_dropout), Dense(2, softmax)), input_shape=(24, 1),
  head_size=16, num_heads=2, ff_dim=4, num_transformer_blocks=2,
  mlp_units=[32], compiled as the example (`Adam(learning_rate=1e-4)`,
  `"sparse_categorical_crossentropy"`, `["sparse_categorical_accuracy"]`).
  The example's Input has no name; Keras names it `input_layer`, so the
  input file is `input_layer.npy`. With `channels_first` the pooling
  averages over the last axis (the one feature): (B, 24, 1) -> (B, 24).
  `timeseries_transformer` uses dropout=0.25, mlp_dropout=0.4 (inactive at
  inference); `train_timeseries_adam_2` uses dropout=0 and mlp_dropout=0
  (the Dropout layers are still in the graph, with rate 0). Keras 3.15.1
  writes `"training": false` into the `kwargs` of every Dropout node of this
  model (the default of `Dropout.call`, recorded when the model was built);
  in Keras 3.15.1, `fit` and `predict` pass `training` explicitly and that
  value wins over the recorded one.
- text classifier: `Input(shape=(10,), name="tokens")` (float32, as the
  keras.io "Text classification with Transformer" example writes its Input),
  `Embedding(50, 16, mask_zero=True|False, name="embed")`,
  `att = MultiHeadAttention(num_heads=2, key_dim=8, name="mha")(e, e)`,
  `h = e + att`, `GlobalAveragePooling1D(name="pool")`,
  `Dense(2, activation="softmax", name="probs")`.
- `ops_arithmetic_nodes`: inputs `a` (5, 4), `b` (5, 1), `c` (1, 4),
  `d = Dense(4, name="proj")(a)`, twelve outputs that are keras.ops nodes
  (see that case's `output_expressions` and `op_nodes`).

## Files in a case directory

| file | content |
| --- | --- |
| `case.json` | the manifest (below) |
| `model.keras` | the model, written by `model.save("model.keras")` |
| `<input name>.npy` | one per model input, named after the Keras `Input` (`x.npy`, `input_layer.npy`, `tokens.npy`, `a.npy`...) |
| `y.npy` | training cases: the targets, float32 (class ids stored as float32 for the classifiers, shape (4,); (4, 1) for the regressor) |
| `predict.npy` | training cases: `model.predict(x)` of the model as saved in `model.keras` (before the extra step) |
| `after.keras` | `training` cases: the model after reload + one `train_on_batch` (below) |
| `output_<i>_<name>.npy` | inference cases: expected output `i` (`name` = `model.output_names[i]`) |

NPY files: `numpy.save` without pickling, C order, `<f4` float32.

## Training cases

All use batch size 4 and one fixed batch (x, y). `steps` is the number of
batches Keras trained on before saving: 0 means `compile` then `model.save`
with no training; N means
`model.fit(x, y, batch_size=4, epochs=N, shuffle=False, verbose=0)` then
`model.save("model.keras")`.

Then, as a user resuming training would:

    m2 = keras.saving.load_model("model.keras")
    logs = m2.train_on_batch(x, y, return_dict=True)
    m2.save("after.keras")

`train_on_batch_logs` in case.json are these `logs` (loss and metrics
computed on the batch BEFORE the update, with freshly reset metric states).
The in-memory original model was also continued with one
`train_on_batch(x, y)`; its weights and optimizer variables equal those of
`m2` (`resume_vs_in_memory_max_abs_diff`, {resume_summary}): saving and
reloading a compiled Keras model loses nothing of the training state here.

A runtime that loads `model.keras`, takes one training step on (x, y) and
compares every model weight and every optimizer variable with `after.keras`
checks that it reads the whole training state and continues training as
Keras does. `tools/keras_reference/check_kattn_saved.py` does the reverse
check: it loads a `.keras` file written by another runtime in Keras, takes
the step in Keras, and compares with `after.keras`.

### Optimizer variables in model.weights.h5

The optimizer state lives in the HDF5 group `optimizer/vars` (attribute
`name` = the optimizer's name: `sgd`, `adam`, `adam_w`, `rm_sprop`), one
dataset per variable named by its index `0`, `1`, ... (HDF5 lists them in
string order, `0, 1, 10, 11, ..., 2, ...`: read them by number). The order
is `optimizer.variables`:

1. `iteration`: int32 scalar, the number of steps taken;
2. `learning_rate`: float32 scalar;
3. then the slots of each trainable variable, in `model.trainable_variables`
   order, interleaved per variable:
   - SGD with momentum (also nesterov): `momentum` (1 slot);
   - Adam, AdamW: `momentum`, `velocity` (2 slots per variable:
     m_0, v_0, m_1, v_1, ...);
   - Adam with `amsgrad=True`: first all `momentum`/`velocity` pairs as
     above, THEN one `velocity_hat` per variable as a separate block after
     them (not interleaved);
   - RMSprop (rho, momentum=0, centered=False): `velocity` (1 slot).
   Slot variables are named `<optimizer name>/<layer>_<variable>_<slot>`,
   e.g. `adam/mha_query_kernel_momentum`, and have the shape and dtype
   (float32) of their model variable.

When the saved count matches, Keras assigns every saved variable,
`learning_rate` included: the resumed optimizer trains with the saved
`learning_rate` VARIABLE, not with the `learning_rate` of the config in
`compile_config` (a file whose config says 0.02 while
`optimizer/vars/1` holds 0.01 trains with 0.01, and the reloaded
optimizer's `get_config()` then reports 0.01).

`case.json` `optimizer_variables` lists them for `model.keras` and for
`after.keras` (index, h5 dataset, name = Keras variable path, shape, dtype);
`optimizer_iterations` gives the saved `iteration` values.

### steps = 0: the optimizer is not built yet

A model compiled but never trained has an unbuilt optimizer: `model.keras`
holds only `optimizer/vars/0` (iteration = 0) and `optimizer/vars/1`
(learning_rate). When `keras.saving.load_model` reads such a file it
compiles the model from `compile_config` and BUILDS the optimizer for the
model's trainable variables (all slots zero), sees 2 saved variables against
its own N, warns

    Skipping variable loading for optimizer '<name>', because it has N
    variables whereas the saved optimizer has 2 variables.

and loads NONE of the optimizer variables (iteration and learning_rate come
from the fresh optimizer: 0 and the config's learning_rate, so nothing is
lost in this case). The same all-or-nothing rule applies to any file whose
optimizer variable count does not match: Keras then silently keeps a fresh
optimizer. `load_warnings` in case.json records the warning. `after.keras`
of a steps=0 case has the full layout with iteration = 1.

### Weights

`weights` in case.json: every model variable in `model.weights` order:
Keras path (`mha/query/kernel`), `h5_dataset` (e.g.
`layers/multi_head_attention/query_dense/vars/0`), shape, dtype, trainable.
The HDF5 groups are named after the layer CLASS (snake case, `_1`, `_2`...
for repeats), not the layer name; each `vars` group carries the layer name
as attribute `name`.

## case.json

Common: `format_version`, `case`, `kind`, `keras_version`, `backend`,
`model_file`, `model_name`, `layer_classes` (`model.layers` Python class
names), `inputs` (in model input order: `name`, `file`, `shape`, `dtype`,
`model_shape`), `outputs` and `output_names` (= `model.output_names`, in
order), `weights`.

Training kinds add: `model`, `targets`, `batch_size`, `steps`, `fit_call`,
`optimizer_class`, `optimizer_config` (the saved optimizer config),
`compile_config` (exactly as in config.json), `predict_file`,
`predict_shape`, `optimizer_variables`, and for `training`:
`optimizer_iterations`, `load_warnings`, `after_file`, `after_call`,
`train_on_batch_logs`, `in_memory_train_on_batch_logs`,
`resume_vs_in_memory_max_abs_diff`.

Inference adds: `outputs` entries with `index`, `name`, `file`, `shape`,
`dtype`; `call_args` (`{{"training": false}}`), `predict_vs_call_max_abs_diff`
(predict vs a direct `model(x, training=False)` call of the reloaded model),
`compiled`, `compile_config`, `notes`; `text_*` add `mask_zero`, `facts`,
`op_nodes`; `ops_arithmetic_nodes` adds `output_expressions` and `op_nodes`
(`name`, `class_name`, `module`, `registered_name`, `config`, `args`,
`kwargs` as saved in config.json).

Outputs were computed by `predict` on the model reloaded from `model.keras`;
they equal the in-memory model's outputs bit for bit. A float32
reimplementation should match them to float32 rounding; a suggested test is
`abs(actual - expected) <= 1e-5 + 1e-5 * abs(expected)`, elementwise.

## Float token ids (text_classifier_float_ids*)

The ids are float32 and include non-integral values (3.7, 12.2, 49.9, 0.5)
and trailing zeros (padding) in two rows. Keras's Embedding casts them with
`ops.cast(inputs, "int32")`: truncation toward zero (3.7 -> 3, 0.5 -> 0).
With `mask_zero=True` the mask is `ops.not_equal(inputs, 0)` computed on the
float inputs, so 0.5 is unmasked although it looks up row 0. `facts` in
case.json pins this by comparing outputs for truncated / rounded ids.

Where the mask goes (mask_zero=True): MultiHeadAttention, called on the
embedding output, uses it (query and value masks). The residual `e + att`
is a keras.ops `Add` node, and op nodes do not pass Keras masks on:
GlobalAveragePooling1D's node is saved with `"mask": null` and the pooling
averages over all 10 steps, padded ones included (`facts`
`pool_equals_mean_over_all_10_steps`). An `Add` layer
(`layers.Add()([e, att])`) would have passed a mask on: Keras then records
NotEqual / LogicalOr op nodes feeding the pooling node's `mask` keyword.
"""


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: generate.py OUT_DIR")
    out_dir = Path(argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    cases = []
    for name, spec, make_opt, steps in training_specs():
        print(f"[training] {name}", flush=True)
        c = make_training_case(out_dir, name, spec, make_opt, steps)
        cases.append((c, spec["model_label"].split(" ")[0]))
    print("[training_unsupported_optimizer] compiled_rmsprop_1", flush=True)
    cases.append((make_rmsprop_case(out_dir), "mha_classifier"))
    print("[inference] timeseries_transformer", flush=True)
    cases.append((make_timeseries_inference(out_dir), "timeseries_transformer"))
    for mz in (True, False):
        c = make_text_case(out_dir, mz)
        print(f"[inference] {c['case']}", flush=True)
        cases.append((c, "text classifier"))
    print("[inference] ops_arithmetic_nodes", flush=True)
    cases.append((make_ops_case(out_dir), "ops_arithmetic_nodes"))

    rows, index_cases, total = [], [], 0
    resume_diffs = []
    for c, label in cases:
        d = out_dir / c["case"]
        size = sum(p.stat().st_size for p in d.iterdir())
        total += size
        index_cases.append({"case": c["case"], "kind": c["kind"],
                            "bytes": size})
        opt = c.get("optimizer_class", "")
        if opt and isinstance(c.get("compile_config", {}).get("optimizer"), dict):
            lr = c["optimizer_config"]["learning_rate"]
            extras = [k for k in ("momentum", "nesterov", "weight_decay",
                                  "amsgrad")
                      if c["optimizer_config"].get(k) not in (None, False, 0.0)]
            opt = f"{opt}(lr={float(np.float32(lr)):g}" + "".join(
                f", {k}={c['optimizer_config'][k]}" for k in extras) + ")"
        steps = c.get("steps", "")
        rows.append(f"| `{c['case']}` | {c['kind']} | {label} | {opt} | {steps} |")
        if "resume_vs_in_memory_max_abs_diff" in c:
            resume_diffs.append(c["resume_vs_in_memory_max_abs_diff"])
    index = {
        "format_version": FORMAT_VERSION,
        "keras_version": keras.__version__,
        "jax_version": jax.__version__,
        "numpy_version": np.__version__,
        "h5py_version": h5py.__version__,
        "backend": BACKEND,
        "num_cases": len(index_cases),
        "total_bytes": total,
        "cases": index_cases,
    }
    write_json(out_dir / "index.json", index)
    worst = max(resume_diffs)
    resume_summary = ("0 in every case: bit for bit" if worst == 0.0 else
                      f"at most {worst:.3g}")
    with open(out_dir / "README.md", "w") as f:
        f.write(README_TEMPLATE.format(
            keras_version=keras.__version__, backend=BACKEND,
            jax_version=jax.__version__, numpy_version=np.__version__,
            case_table="\n".join(rows), resume_summary=resume_summary))
    print(f"{len(index_cases)} cases, {total} bytes in {out_dir}")


if __name__ == "__main__":
    main(sys.argv)
