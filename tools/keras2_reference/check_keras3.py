"""Loads the Keras 2 cases of tests/data/keras2-h5 in Keras 3 and compares what Keras 3
predicts with what tf.keras 2 computed (the cases' outputs).

    KERAS_BACKEND=numpy python tools/keras2_reference/check_keras3.py tests/data/keras2-h5 \
        [--converted DIR]

For each case it loads `model.h5` with `keras.saving.load_model` and prints one line: PASS with
the largest difference, DIFF when Keras 3 predicts something else, or ERROR with Keras 3's
error. With `--converted DIR`, it also loads `DIR/<case>.keras` (what `kattn convert` wrote
for the case) and compares its predictions with the case's outputs and, where Keras 3 loaded the
`.h5`, its weights and its config.json with those of Keras 3's own save of the loaded model
(every key).
The exit status is 1 when a converted file fails.
"""

import json
import pathlib
import sys
import tempfile
import zipfile

import keras
import numpy as np


def predict(model, inputs):
    outputs = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    return outputs if isinstance(outputs, (list, tuple)) else [outputs]


def largest_difference(actual, expected):
    if len(actual) != len(expected):
        return float("inf")
    return max(float(np.max(np.abs(np.asarray(a) - e), initial=0.0))
               for a, e in zip(actual, expected))


def config_json(path):
    return json.loads(zipfile.ZipFile(path).read("config.json"))


def same_config(converted, keras3):
    """Whether kattn's config.json is what Keras 3's save of its .h5 load writes."""
    with tempfile.TemporaryDirectory() as scratch:
        saved = pathlib.Path(scratch) / "keras3.keras"
        keras3.save(saved)
        return config_json(saved) == config_json(converted)


def main(cases_dir, converted_dir=None):
    failures = 0
    for case_dir in sorted(p.parent for p in pathlib.Path(cases_dir).glob("*/case.json")):
        manifest = json.loads((case_dir / "case.json").read_text())
        if manifest["expect_error"]:
            continue
        inputs = [np.load(case_dir / entry["file"]) for entry in manifest["inputs"]]
        expected = [np.load(case_dir / entry["file"]) for entry in manifest["outputs"]]
        atol = manifest["tolerance"]["atol"] * 10
        keras3 = None
        try:
            keras3 = keras.saving.load_model(case_dir / "model.h5", compile=False)
            difference = largest_difference(predict(keras3, inputs), expected)
            verdict = "PASS" if difference <= atol else "DIFF"
            print(f"{verdict} {case_dir.name}: Keras 3 load_model(.h5), max |diff| {difference:.3g}")
        except Exception as error:  # noqa: BLE001 (Keras raises many kinds)
            print(f"ERROR {case_dir.name}: Keras 3 load_model(.h5): "
                  f"{type(error).__name__}: {str(error).splitlines()[0][:300]}")
        if converted_dir is None:
            continue
        converted = pathlib.Path(converted_dir) / f"{case_dir.name}.keras"
        try:
            model = keras.saving.load_model(converted, compile=False)
            difference = largest_difference(predict(model, inputs), expected)
            same_weights = keras3 is None or all(
                np.array_equal(a, b) for a, b in zip(model.get_weights(), keras3.get_weights()))
            config_equal = keras3 is None or same_config(converted, keras3)
            ok = difference <= atol and same_weights and config_equal
            print(f"{'PASS' if ok else 'FAIL'} {case_dir.name}: Keras 3 load_model of the "
                  f"converted file, max |diff| {difference:.3g}"
                  + ("" if keras3 is None else ", config and weights compared with Keras 3's")
                  + ("" if same_weights else ", weights differ from Keras 3's .h5 load")
                  + ("" if config_equal else ", config.json differs from Keras 3's save"))
        except Exception as error:  # noqa: BLE001
            ok = False
            print(f"FAIL {case_dir.name}: Keras 3 load_model of the converted file: "
                  f"{type(error).__name__}: {str(error).splitlines()[0][:300]}")
        failures += not ok
    return 1 if failures else 0


if __name__ == "__main__":
    arguments = sys.argv[1:]
    converted = None
    if "--converted" in arguments:
        at = arguments.index("--converted")
        converted = arguments[at + 1]
        del arguments[at:at + 2]
    sys.exit(main(arguments[0], converted))
