#!/usr/bin/env python3
"""Expected outputs for tests/data/golden-models/error_bilstm, a model Keras 3.16 saved.

Usage:
    KERAS_BACKEND=numpy python tools/keras_reference/bilstm_outputs.py [CASE_DIR]

The case was published as a model to refuse (Bidirectional and LSTM were outside kattn's layer
set) and came without outputs. This script runs it layer by layer in the Keras the package index
has (3.15.x) with Keras 3.16's mask rules, which that version does not follow by itself:
Bidirectional uses the mask its node names (ids != 0), but its output carries none, so
MultiHeadAttention gets no mask and neither does GlobalAveragePooling1D after it (its node's
`mask` is null: it reads the mask of its input, which has none), and averages every step. The
arithmetic of every layer is the same in both versions. Writes output_0_score.npy into
CASE_DIR and rewrites case.json as a case with that output.
"""

import json
import os
import sys

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "numpy")
import keras  # noqa: E402


def main():
    case = sys.argv[1] if len(sys.argv) > 1 else "tests/data/golden-models/error_bilstm"
    model = keras.saving.load_model(os.path.join(case, "model.keras"))
    tokens = np.load(os.path.join(case, "tokens.npy"))
    mask = tokens != 0
    embedded = model.get_layer("token_embedding")(tokens)
    encoded = model.get_layer("bilstm")(embedded, mask=mask)
    # Copies: Keras 3.15 keeps the masks of numpy arrays by the arrays' identity.
    encoded = np.array(encoded, copy=True)  # no Keras mask, as in Keras 3.16
    attended = model.get_layer("self_attention")(encoded, encoded)
    pooled = model.get_layer("pool")(np.array(attended, copy=True))  # no mask reaches it
    score = np.asarray(model.get_layer("score")(pooled), dtype=np.float32)
    np.save(os.path.join(case, "output_0_score.npy"), score)

    manifest_path = os.path.join(case, "case.json")
    with open(manifest_path) as f:
        manifest = json.load(f)
    manifest["expect_error"] = False
    manifest.pop("unsupported_classes", None)
    manifest.pop("error_reason", None)
    manifest["outputs"] = [{"index": 0, "name": "score", "file": "output_0_score.npy",
                            "shape": list(score.shape), "dtype": "float32",
                            "produced_by": ["score", 0, 0]}]
    manifest["tolerance"] = {"atol": 1e-5, "rtol": 1e-5}
    manifest["tags"] = ["Bidirectional", "LSTM", "mask_zero", "outputs_by_script"]
    manifest["notes"] = [
        "Published as a model to refuse (recurrent layers were outside kattn's layer set); "
        "kattn now runs it. The output was computed by tools/keras_reference/bilstm_outputs.py "
        f"with Keras {keras.__version__} ({keras.backend.backend()} backend) layer by layer, "
        "under Keras 3.16's mask rules (the Bidirectional output carries no mask). The golden "
        "zoo's cls_bilstm_attention has the same structure with Keras 3.16's own outputs."]
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(score)


if __name__ == "__main__":
    main()
