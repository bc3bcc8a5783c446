#!/usr/bin/env python3
"""Check .keras files written by kattn against Keras: can Keras resume them?

Usage:
    KERAS_BACKEND=jax python tools/keras_reference/check_kattn_saved.py DIR [--cases CASES_DIR]

DIR holds one subdirectory per training case, named after the case, each
with `kattn_saved.keras`: the file kattn wrote after loading that case's
`model.keras`. CASES_DIR defaults to tests/data/keras_reference of this
repository.

For every such subdirectory, Keras loads `kattn_saved.keras`; the script
checks that the model is compiled with the case's optimizer class and
optimizer config (and the same loss and metrics), takes one
`train_on_batch(x, y)` and compares the result with the case's
`after.keras` (what Keras reaches from `model.keras` the same way): every
model weight, every optimizer variable (same count, order, shapes) and the
train_on_batch logs, each with |a - b| <= 1e-5 + 1e-4 * |b|.

Prints one line per case (PASS/FAIL with the largest difference) and a last
line `N passed, M failed`; exits 1 when a case failed or none was found.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import argparse
import io
import json
import math
import sys
import warnings
import zipfile
from pathlib import Path

import h5py
import numpy as np

import keras

from generate import keras_zip_json, read_h5_datasets

ATOL = 1e-5
RTOL = 1e-4
SAVED_NAME = "kattn_saved.keras"
DEFAULT_CASES = Path(__file__).resolve().parents[2] / "tests" / "data" / "keras_reference"


class CheckFailed(Exception):
    pass


def same_value(a, b):
    """Config values: floats within float32 rounding, the rest equal."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return a == b


def compare(label, actual, expected, problems):
    """Return max |a - b|; record a problem when outside the tolerance."""
    a = np.asarray(actual, dtype=np.float64)
    b = np.asarray(expected, dtype=np.float64)
    if a.shape != b.shape:
        problems.append(f"{label}: shape {list(a.shape)} != {list(b.shape)}")
        return math.inf
    if a.size == 0:
        return 0.0
    diff = np.abs(a - b)
    if not np.all(np.isfinite(a)):
        problems.append(f"{label}: non-finite values")
        return math.inf
    bad = diff > ATOL + RTOL * np.abs(b)
    if np.any(bad):
        problems.append(f"{label}: max |diff| {float(diff.max()):.3e} "
                        f"({int(bad.sum())} of {a.size} values out of tolerance)")
    return float(diff.max())


def check_case(saved_file, case_dir):
    case_file = case_dir / "case.json"
    if not case_file.is_file():
        raise CheckFailed(f"no case {case_dir.name!r} in {case_dir.parent}")
    case = json.loads(case_file.read_text())
    if case.get("kind") != "training":
        raise CheckFailed(f"case kind is {case.get('kind')!r}, not 'training'")

    problems = []
    ref_compile = case["compile_config"]
    saved_config = keras_zip_json(saved_file, "config.json")
    saved_compile = saved_config.get("compile_config")
    if not saved_compile:
        raise CheckFailed("kattn_saved.keras has no compile_config")

    keras.backend.clear_session()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = keras.saving.load_model(saved_file)
    skipped = [str(w.message).strip() for w in caught
               if "Skipping variable loading" in str(w.message)]

    opt = getattr(model, "optimizer", None)
    if opt is None:
        raise CheckFailed("Keras loaded the model without an optimizer")
    if type(opt).__name__ != case["optimizer_class"]:
        raise CheckFailed(f"optimizer class {type(opt).__name__} != "
                          f"{case['optimizer_class']}")
    ref_opt = ref_compile["optimizer"]
    ref_opt_config = (keras.optimizers.get(ref_opt).get_config()
                      if isinstance(ref_opt, str) else ref_opt["config"])
    got_opt_config = opt.get_config()
    if not same_value(got_opt_config, ref_opt_config):
        keys = sorted(set(got_opt_config) | set(ref_opt_config))
        diffs = [f"{k}: {got_opt_config.get(k, '<missing>')!r} != "
                 f"{ref_opt_config.get(k, '<missing>')!r}" for k in keys
                 if not same_value(got_opt_config.get(k, "<missing>"),
                                   ref_opt_config.get(k, "<missing>"))]
        problems.append("optimizer config differs: " + "; ".join(diffs))
    # the config as written (Keras itself replaces the learning_rate of the
    # config by the saved learning_rate variable when it loads the optimizer
    # variables, so the loaded optimizer alone would not show a wrong config)
    saved_opt = saved_compile.get("optimizer")
    if isinstance(saved_opt, dict) and isinstance(ref_opt, dict):
        if saved_opt.get("class_name") != ref_opt.get("class_name"):
            problems.append(f"saved optimizer class_name "
                            f"{saved_opt.get('class_name')!r} != "
                            f"{ref_opt.get('class_name')!r}")
        if not same_value(saved_opt.get("config"), ref_opt["config"]):
            problems.append("saved optimizer config differs from the case's: "
                            f"{json.dumps(saved_opt.get('config'))}")
    elif not same_value(saved_opt, ref_opt):
        problems.append(f"saved optimizer {saved_opt!r} != {ref_opt!r}")
    for key in ("loss", "loss_weights", "metrics", "weighted_metrics"):
        if not same_value(saved_compile.get(key), ref_compile.get(key)):
            problems.append(f"compile_config {key}: "
                            f"{saved_compile.get(key)!r} != {ref_compile.get(key)!r}")

    # one training step, as a user resuming training would
    (inp,) = case["inputs"]
    x = np.load(case_dir / inp["file"])
    y = np.load(case_dir / case["targets"]["file"])
    logs = model.train_on_batch(x, y, return_dict=True)

    worst = 0.0
    ref_logs = case["train_on_batch_logs"]
    if set(logs) != set(ref_logs):
        problems.append(f"train_on_batch logs {sorted(logs)} != {sorted(ref_logs)}")
    for k in sorted(set(logs) & set(ref_logs)):
        worst = max(worst, compare(f"log {k}", float(np.asarray(logs[k])),
                                   ref_logs[k], problems))

    after = read_h5_datasets(case_dir / case["after_file"])
    by_path = {v.path: v for v in model.weights}
    if len(by_path) != len(case["weights"]):
        problems.append(f"{len(by_path)} model weights, expected "
                        f"{len(case['weights'])}")
    for w in case["weights"]:
        v = by_path.get(w["path"])
        if v is None:
            problems.append(f"weight {w['path']} missing")
            continue
        worst = max(worst, compare(w["path"], v.numpy(),
                                   after[w["h5_dataset"]], problems))

    rows = case["optimizer_variables"]["after.keras"]
    opt_vars = list(opt.variables)
    if len(opt_vars) != len(rows):
        problems.append(f"{len(opt_vars)} optimizer variables after the step, "
                        f"expected {len(rows)}")
    for row, v in zip(rows, opt_vars):
        if v.path != row["name"]:
            problems.append(f"optimizer variable {row['index']} is {v.path}, "
                            f"expected {row['name']}")
        if str(v.dtype) != row["dtype"]:
            problems.append(f"optimizer variable {row['name']} dtype "
                            f"{v.dtype} != {row['dtype']}")
        worst = max(worst, compare(row["name"], v.numpy(),
                                   after[row["h5_dataset"]], problems))

    if problems and skipped:
        problems.insert(0, "Keras did not load the optimizer variables: "
                        + " ".join(skipped))
    return worst, problems


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path,
                        help=f"directory of <case>/{SAVED_NAME}")
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES,
                        help="reference cases (default: %(default)s)")
    args = parser.parse_args(argv[1:])

    if keras.backend.backend() != "jax":
        print(f"warning: backend {keras.backend.backend()!r}; the reference "
              "cases were made with 'jax'", file=sys.stderr)

    subdirs = sorted(p for p in args.dir.iterdir()
                     if p.is_dir() and (p / SAVED_NAME).is_file()) \
        if args.dir.is_dir() else []
    passed = failed = 0
    for sub in subdirs:
        name = sub.name
        try:
            worst, problems = check_case(sub / SAVED_NAME, args.cases / name)
        except CheckFailed as e:
            worst, problems = math.nan, [str(e)]
        except Exception as e:  # a broken file must not stop the others
            worst, problems = math.nan, [f"{type(e).__name__}: {e}"]
        if problems:
            failed += 1
            print(f"FAIL {name}: max_abs_diff={worst:.3e}; "
                  + "; ".join(problems[:6])
                  + (f"; ... ({len(problems) - 6} more)" if len(problems) > 6 else ""))
        else:
            passed += 1
            print(f"PASS {name}: max_abs_diff={worst:.3e}")
        sys.stdout.flush()
    if not subdirs:
        print(f"no <case>/{SAVED_NAME} found under {args.dir}", file=sys.stderr)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not subdirs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
