"""Writes tests/data/nested-models/: models with models used as layers, saved by Keras.

    KERAS_BACKEND=numpy python tools/keras_reference/nested_models.py tests/data/nested-models

Case `encoder_head`: Embedding(mask_zero) -> a Functional encoder (Dense, LayerNormalization),
called with the embedding's mask -> GlobalAveragePooling1D (which averages over the unmasked
steps only: the encoder's output carries the mask it computed at run time) -> a Sequential head
(Dense relu, Dense). Files: model.keras, tokens.npy (padded ids), output.npy (model.predict),
pooled.npy (the pooling layer's output, from a sub-model), keras_version.txt.
"""

import pathlib
import sys

import keras
import numpy as np
from keras import layers


def encoder_head():
    keras.utils.set_random_seed(2025)
    inner_in = keras.Input(shape=(None, 6), name="inner_x")
    h = layers.Dense(5, activation="tanh", name="inner_dense")(inner_in)
    h = layers.LayerNormalization(name="inner_norm")(h)
    encoder = keras.Model(inner_in, h, name="encoder")
    head = keras.Sequential(
        [keras.Input(shape=(5,), name="head_in"),
         layers.Dense(4, activation="relu", name="head_hidden"),
         layers.Dense(2, name="head_out")],
        name="head")
    ids = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = layers.Embedding(20, 6, mask_zero=True, name="embedding")(ids)
    pooled = layers.GlobalAveragePooling1D(name="pool")(encoder(x))
    model = keras.Model(ids, head(pooled), name="outer")
    # LayerNormalization's gamma and beta away from their initial ones and zeros.
    rng = np.random.default_rng(7)
    for weight in model.weights:
        weight.assign(rng.normal(size=weight.shape).astype("float32") * 0.5)
    return model


def main(out_dir):
    out = pathlib.Path(out_dir) / "encoder_head"
    out.mkdir(parents=True, exist_ok=True)
    model = encoder_head()
    tokens = np.array([[3, 4, 9, 0, 0], [5, 0, 0, 0, 0], [1, 2, 3, 4, 5]], dtype="int32")
    model.save(out / "model.keras")
    np.save(out / "tokens.npy", tokens)
    np.save(out / "output.npy", model.predict(tokens, verbose=0))
    pooled = keras.Model(model.inputs, model.get_layer("pool").output)
    np.save(out / "pooled.npy", pooled.predict(tokens, verbose=0))
    (out / "keras_version.txt").write_text(keras.__version__ + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
