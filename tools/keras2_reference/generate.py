"""Writes tests/data/keras2-h5/: Keras 2 HDF5 model files saved by tf.keras 2 (tf-keras on
TensorFlow), with their inputs and the outputs tf.keras 2 computes after loading each file.

    TF_USE_LEGACY_KERAS=1 python tools/keras2_reference/generate.py tests/data/keras2-h5

Each case directory holds `model.h5` (`model.save("model.h5")`), one `.npy` per model input,
`output_<i>_<name>.npy` per model output and `case.json` in the format of the golden
model-level set (`tests/data/golden-models/README.md`): `model_file`, `inputs`, `outputs`,
`tolerance`, plus `tf_keras_version`, `tensorflow_version` and `notes`. The expected outputs are
those of the model that `tf_keras.models.load_model("model.h5")` gives back, in inference mode:
a file holds only what its config and weights say (`notes` says where the model before saving
computed something else, and `before_saving_file` holds what it computed). Cases with
`expect_error` hold a model kattn refuses, with the class
names its error must give in `unsupported_classes`. Some cases also hold `weights.h5`
(`model.save_weights("weights.h5")`) and `weights_by_name.h5` (the same layers saved from a
model whose layers come in another order), for `load_weights`.

`hostile/` holds malformed copies of one case's file (write_hostile says which).

Every weight is set to seeded random values after the model is built, so that no initial value
(zeros, ones) can hide a bug.
"""

import json
import os
import pathlib
import shutil
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # the same float32 results on every CPU

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
from tf_keras import layers  # noqa: E402

SEED = 2026
TOLERANCE = {"atol": 2e-5, "rtol": 2e-5,
             "rule": "abs(actual - expected) <= atol + rtol * abs(expected), elementwise"}


def randomize(model, seed):
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        shape = tuple(weight.shape)
        name = weight.name
        if "moving_variance" in name or "gamma" in name:
            value = rng.uniform(0.6, 1.4, size=shape)
        elif "scale" in name and not shape:
            value = rng.uniform(0.5, 0.85)
        elif len(shape) >= 2:
            value = rng.normal(size=shape) / np.sqrt(np.prod(shape[:-1]))
        else:
            value = 0.3 * rng.normal(size=shape)
        weight.assign(np.asarray(value, dtype="float32"))


def tokens(rng, batch, length, vocab, pad_from=None):
    ids = rng.integers(1, vocab, size=(batch, length)).astype("int32")
    for row, start in enumerate(pad_from or []):
        ids[row, start:] = 0
    return ids


# --- The models ----------------------------------------------------------------------------


def luong_self_attention(rng):
    """Embedding(mask_zero) -> Attention(use_scale) self-attention with use_causal_mask=True in
    the call -> Add residual -> GlobalAveragePooling1D (masked) -> Dense."""
    ids = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = layers.Embedding(20, 6, mask_zero=True, name="embedding")(ids)
    attended = layers.Attention(use_scale=True, name="luong")([x, x], use_causal_mask=True)
    x = layers.Add(name="residual")([x, attended])
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    out = layers.Dense(3, activation="softmax", name="classes")(x)
    model = keras.Model(ids, out, name="luong_self_attention")
    return model, [tokens(rng, 3, 7, 20, pad_from=[5, 2, 7])], []


def luong_causal_constructor(rng):
    """Attention(causal=True), the deprecated constructor argument: tf.keras 2 does not write it
    into the config, so the saved file holds a non-causal layer."""
    q = keras.Input(shape=(None, 4), name="query")
    v = keras.Input(shape=(None, 4), name="value")
    out = layers.Attention(causal=True, name="luong")([q, v])
    model = keras.Model([q, v], out, name="luong_causal_constructor")
    inputs = [rng.normal(size=(2, 5, 4)).astype("float32"),
              rng.normal(size=(2, 5, 4)).astype("float32")]
    notes = ["Attention(causal=True) before saving is causal; tf.keras 2's get_config does not "
             "write `causal`, so the file (and tf.keras 2's load_model of it) is not causal. "
             "The outputs are the loaded model's."]
    return model, inputs, notes


def luong_concat_scores(rng):
    """Attention(score_mode="concat", use_scale=True, dropout) on query, value and key with
    Masking masks, returning the scores too."""
    q = keras.Input(shape=(None, 5), name="query")
    v = keras.Input(shape=(None, 5), name="value")
    k = keras.Input(shape=(None, 5), name="key")
    qm = layers.Masking(name="query_masking")(q)
    vm = layers.Masking(name="value_masking")(v)
    out, scores = layers.Attention(score_mode="concat", use_scale=True, dropout=0.2,
                                   name="luong_concat")([qm, vm, k],
                                                        return_attention_scores=True)
    model = keras.Model([q, v, k], [out, scores], name="luong_concat_scores")
    query = rng.normal(size=(2, 4, 5)).astype("float32")
    value = rng.normal(size=(2, 6, 5)).astype("float32")
    query[1, 3:] = 0
    value[0, 4:] = 0
    key = rng.normal(size=(2, 6, 5)).astype("float32")
    return model, [query, value, key], []


def bahdanau_text_similarity(rng):
    """The tf.keras AdditiveAttention documentation's network: token embeddings, a shared
    Conv1D, AdditiveAttention(use_scale) between query and value, pooled and concatenated,
    with a second AdditiveAttention(use_scale=False) under use_causal_mask."""
    query_ids = keras.Input(shape=(None,), dtype="int32", name="query_tokens")
    value_ids = keras.Input(shape=(None,), dtype="int32", name="value_tokens")
    embedding = layers.Embedding(30, 8, mask_zero=True, name="token_embedding")
    conv = layers.Conv1D(6, 3, padding="same", name="cnn")
    query = conv(embedding(query_ids))
    value = conv(embedding(value_ids))
    attended = layers.AdditiveAttention(use_scale=True, name="bahdanau")([query, value])
    causal = layers.AdditiveAttention(use_scale=False, name="bahdanau_causal")(
        [query, query], use_causal_mask=True)
    pooled = [layers.GlobalAveragePooling1D(name="pool_query")(query),
              layers.GlobalAveragePooling1D(name="pool_attended")(attended),
              layers.GlobalMaxPooling1D(name="pool_causal")(causal)]
    x = layers.Concatenate(name="concat")(pooled)
    out = layers.Dense(1, activation="sigmoid", name="similarity")(x)
    model = keras.Model([query_ids, value_ids], out, name="bahdanau_text_similarity")
    inputs = [tokens(rng, 3, 6, 30, pad_from=[4, 6, 1]), tokens(rng, 3, 8, 30, pad_from=[8, 3, 5])]
    return model, inputs, []


def mha_encoder_block(rng):
    """A Transformer encoder block: Embedding(mask_zero), MultiHeadAttention self-attention
    under use_causal_mask with value_dim and dropout, residuals, LayerNormalization, a Dense
    feed-forward with Dropout, GlobalAveragePooling1D and a Dense head."""
    ids = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = layers.Embedding(25, 8, mask_zero=True, name="embedding")(ids)
    a = layers.MultiHeadAttention(num_heads=2, key_dim=4, value_dim=3, dropout=0.1,
                                  name="self_attention")(x, x, use_causal_mask=True)
    x = layers.LayerNormalization(epsilon=1e-6, name="norm_1")(layers.Add(name="add_1")([x, a]))
    f = layers.Dense(16, activation="relu", name="ffn_1")(x)
    f = layers.Dropout(0.3, name="ffn_dropout")(f)
    f = layers.Dense(8, name="ffn_2")(f)
    x = layers.LayerNormalization(epsilon=1e-6, name="norm_2")(layers.Add(name="add_2")([x, f]))
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    out = layers.Dense(4, name="logits")(x)
    model = keras.Model(ids, out, name="mha_encoder_block")
    return model, [tokens(rng, 3, 6, 25, pad_from=[6, 3, 1])], []


def mha_cross_attention(rng):
    """MultiHeadAttention(output_shape, use_bias=False) on query, value and key with an explicit
    boolean attention_mask input, returning the scores."""
    q = keras.Input(shape=(None, 6), name="query")
    v = keras.Input(shape=(None, 5), name="value")
    k = keras.Input(shape=(None, 7), name="key")
    m = keras.Input(shape=(None, None), dtype="bool", name="attention_mask")
    out, scores = layers.MultiHeadAttention(num_heads=3, key_dim=2, output_shape=4,
                                            use_bias=False, name="cross_attention")(
        q, v, key=k, attention_mask=m, return_attention_scores=True)
    model = keras.Model([q, v, k, m], [out, scores], name="mha_cross_attention")
    mask = rng.random(size=(2, 3, 4)) > 0.3
    mask[:, :, 0] = True
    inputs = [rng.normal(size=(2, 3, 6)).astype("float32"),
              rng.normal(size=(2, 4, 5)).astype("float32"),
              rng.normal(size=(2, 4, 7)).astype("float32"), mask]
    return model, inputs, []


def mha_attention_axes(rng):
    """MultiHeadAttention over two axes of a 4-D input (attention_axes=(1, 2)), with
    output_shape given as a tuple."""
    x = keras.Input(shape=(3, 4, 5), name="grid")
    y = layers.MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=(1, 2),
                                  output_shape=(6,), name="axial_attention")(x, x)
    model = keras.Model(x, y, name="mha_attention_axes")
    return model, [rng.normal(size=(2, 3, 4, 5)).astype("float32")], []


def seq2seq_luong(rng):
    """The TensorFlow NMT tutorial's shape: an LSTM encoder and decoder over masked
    embeddings, Luong Attention between them, Concatenate and a TimeDistributed Dense."""
    enc_ids = keras.Input(shape=(None,), dtype="int32", name="encoder_tokens")
    dec_ids = keras.Input(shape=(None,), dtype="int32", name="decoder_tokens")
    enc = layers.Embedding(15, 6, mask_zero=True, name="encoder_embedding")(enc_ids)
    enc_seq, h, c = layers.LSTM(5, return_sequences=True, return_state=True,
                                name="encoder_lstm")(enc)
    dec = layers.Embedding(12, 6, mask_zero=True, name="decoder_embedding")(dec_ids)
    dec_seq = layers.LSTM(5, return_sequences=True, name="decoder_lstm")(
        dec, initial_state=[h, c])
    context = layers.Attention(name="luong")([dec_seq, enc_seq])
    x = layers.Concatenate(name="concat")([dec_seq, context])
    out = layers.TimeDistributed(layers.Dense(12, activation="softmax"), name="vocab")(x)
    model = keras.Model([enc_ids, dec_ids], out, name="seq2seq_luong")
    inputs = [tokens(rng, 2, 6, 15, pad_from=[4, 6]), tokens(rng, 2, 5, 12, pad_from=[5, 2])]
    return model, inputs, []


def bidirectional_gru_attention(rng):
    """Bidirectional GRU (reset_after true) and a GRU with reset_after=False around
    MultiHeadAttention, with Masking."""
    x_in = keras.Input(shape=(None, 4), name="features")
    x = layers.Masking(name="masking")(x_in)
    x = layers.Bidirectional(layers.GRU(3, return_sequences=True), merge_mode="concat",
                             name="bigru")(x)
    a = layers.MultiHeadAttention(num_heads=2, key_dim=3, name="attention")(x, x)
    x = layers.GRU(4, reset_after=False, name="gru_v1")(a)
    out = layers.Dense(2, name="out")(x)
    model = keras.Model(x_in, out, name="bidirectional_gru_attention")
    features = rng.normal(size=(3, 5, 4)).astype("float32")
    features[0, 3:] = 0
    features[2, 1:] = 0
    return model, [features], []


def sequential_conv_classifier(rng):
    """A keras.Sequential with its input given by batch_input_shape on the first layer:
    Conv1D, BatchNormalization, MaxPooling1D, SimpleRNN, Dense."""
    model = keras.Sequential([
        layers.Conv1D(6, 3, activation="relu", input_shape=(None, 3), name="conv"),
        layers.BatchNormalization(name="batch_norm"),
        layers.MaxPooling1D(2, name="max_pool"),
        layers.SimpleRNN(5, name="rnn"),
        layers.Dense(3, activation="softmax", name="classes"),
    ], name="sequential_conv_classifier")
    return model, [rng.normal(size=(2, 9, 3)).astype("float32")], []


def sequential_with_input_layer(rng):
    """A keras.Sequential starting with keras.Input: Embedding, LSTM, Flatten after a
    RepeatVector, LeakyReLU and ELU."""
    model = keras.Sequential([
        keras.Input(shape=(4,), dtype="int32", name="ids"),
        layers.Embedding(10, 3, name="embedding"),
        layers.Flatten(name="flatten"),
        layers.Dense(5, name="dense"),
        layers.LeakyReLU(alpha=0.2, name="leaky"),
        layers.RepeatVector(3, name="repeat"),
        layers.LSTM(4, return_sequences=True, name="lstm"),
        layers.ELU(name="elu"),
        layers.Reshape((12,), name="reshape"),
    ], name="sequential_with_input_layer")
    return model, [tokens(rng, 2, 4, 10)], []


def vision_patch_attention(rng):
    """A Conv2D patch embedding, Reshape to a sequence, MultiHeadAttention, residual,
    LayerNormalization, GlobalAveragePooling1D, Dense softmax."""
    image = keras.Input(shape=(8, 8, 3), name="image")
    p = layers.Conv2D(6, 4, strides=4, name="patches")(image)
    x = layers.Reshape((4, 6), name="sequence")(p)
    a = layers.MultiHeadAttention(num_heads=2, key_dim=3, name="attention")(x, x)
    x = layers.LayerNormalization(name="norm")(layers.Add(name="residual")([x, a]))
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    out = layers.Dense(3, activation="softmax", name="classes")(x)
    model = keras.Model(image, out, name="vision_patch_attention")
    return model, [rng.normal(size=(2, 8, 8, 3)).astype("float32")], []


def companion_layers_1d(rng):
    """The 1-D companion layers around an attention layer: Conv1D (dilated, causal padding),
    ZeroPadding1D, Cropping1D, UpSampling1D, pooling, the inference identities (dropouts, noise,
    ActivityRegularization, Identity), activations (Activation, ReLU with max_value and
    threshold, PReLU, Softmax, ELU), normalizations (UnitNormalization, GroupNormalization),
    Permute, EinsumDense and the merges (Subtract, Multiply, Average, Maximum, Minimum, Dot)."""
    x_in = keras.Input(shape=(6, 4), name="sequence")
    x = layers.Conv1D(4, 2, dilation_rate=2, padding="causal", activation="tanh", name="conv")(x_in)
    x = layers.ZeroPadding1D((1, 2), name="pad")(x)
    x = layers.Cropping1D((2, 1), name="crop")(x)
    x = layers.UpSampling1D(2, name="upsample")(x)
    x = layers.AveragePooling1D(2, padding="same", name="average_pool")(x)
    x = layers.MaxPooling1D(2, strides=1, padding="same", name="max_pool")(x)
    x = layers.SpatialDropout1D(0.3, name="spatial_dropout")(x)
    x = layers.GaussianNoise(0.5, name="noise")(x)
    x = layers.GaussianDropout(0.2, name="gaussian_dropout")(x)
    x = layers.AlphaDropout(0.1, name="alpha_dropout")(x)
    x = layers.ActivityRegularization(l1=0.01, name="activity_regularization")(x)
    x = layers.Identity(name="identity")(x)
    a = layers.ReLU(max_value=0.8, threshold=0.05, negative_slope=0.1, name="relu")(x)
    b = layers.PReLU(shared_axes=[1], name="prelu")(x)
    c = layers.Activation("gelu", name="gelu")(x)
    d = layers.Softmax(axis=1, name="softmax")(x)
    e = layers.ELU(alpha=0.7, name="elu")(x)
    merged = layers.Subtract(name="subtract")([a, b])
    merged = layers.Multiply(name="multiply")([merged, c])
    merged = layers.Average(name="average")([merged, d, e])
    merged = layers.Maximum(name="maximum")([merged, a])
    merged = layers.Minimum(name="minimum")([merged, c])
    merged = layers.UnitNormalization(name="unit_norm")(merged)
    merged = layers.GroupNormalization(groups=2, name="group_norm")(merged)
    p = layers.Permute((2, 1), name="permute")(merged)
    p = layers.EinsumDense("abc,cd->abd", output_shape=(None, 3), bias_axes="d",
                           name="einsum")(p)
    dots = layers.Dot(axes=(1, 1), normalize=True, name="dot")([p, p])
    out = layers.Flatten(name="flatten")(dots)
    model = keras.Model(x_in, out, name="companion_layers_1d")
    return model, [rng.normal(size=(2, 6, 4)).astype("float32")], []


def companion_layers_2d(rng):
    """Images: Conv2D (strides, same padding, relu), BatchNormalization, MaxPooling2D,
    AveragePooling2D, SpatialDropout2D, GlobalMaxPooling2D and GlobalAveragePooling2D merged."""
    image = keras.Input(shape=(8, 8, 3), name="image")
    x = layers.Conv2D(4, 3, strides=(1, 2), padding="same", activation="relu", name="conv")(image)
    x = layers.BatchNormalization(name="batch_norm")(x)
    x = layers.MaxPooling2D((2, 1), name="max_pool")(x)
    x = layers.AveragePooling2D(2, padding="same", name="average_pool")(x)
    x = layers.SpatialDropout2D(0.2, name="spatial_dropout")(x)
    pooled = layers.Concatenate(name="concat")([layers.GlobalMaxPooling2D(name="gmp")(x),
                                                layers.GlobalAveragePooling2D(name="gap")(x)])
    out = layers.Dense(2, activation="sigmoid", name="out")(pooled)
    model = keras.Model(image, out, name="companion_layers_2d")
    return model, [rng.normal(size=(2, 8, 8, 3)).astype("float32")], []


def recurrent_variants(rng):
    """Bidirectional LSTM (merge_mode sum, then ave with return_state), GRU go_backwards with
    return_state, SimpleRNN relu and TimeDistributed(Conv1D) under an Embedding mask, the masked
    sequences reaching an AdditiveAttention."""
    ids = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = layers.Embedding(12, 4, mask_zero=True, name="embedding")(ids)
    x = layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode="sum",
                             name="bilstm_sum")(x)
    seq, h = layers.GRU(3, return_sequences=True, return_state=True, go_backwards=True,
                           name="gru_backwards")(x)
    r = layers.SimpleRNN(3, activation="relu", return_sequences=True, name="simple_rnn")(seq)
    context = layers.AdditiveAttention(name="bahdanau")([r, seq])
    ave = layers.Bidirectional(layers.LSTM(2), merge_mode="ave", name="bilstm_ave")(context)
    grid = layers.Reshape((2, 2, 1), name="reshape")(layers.Dense(4, name="dense")(
        layers.Concatenate(name="concat")([ave, h])))
    out = layers.TimeDistributed(layers.Conv1D(2, 2, padding="same"), name="td_conv")(grid)
    model = keras.Model(ids, layers.Flatten(name="flatten")(out), name="recurrent_variants")
    return model, [tokens(rng, 3, 6, 12, pad_from=[3, 6, 1])], []


def nested_models(rng):
    """A Functional encoder (Dense, BatchNormalization: its weights listed trainable first) and
    a Sequential head used as layers, on a masked Embedding."""
    inner_in = keras.Input(shape=(None, 6), name="inner_x")
    h = layers.Dense(5, activation="tanh", name="inner_dense")(inner_in)
    h = layers.BatchNormalization(name="inner_norm")(h)
    encoder = keras.Model(inner_in, h, name="encoder")
    head = keras.Sequential([keras.Input(shape=(5,), name="head_in"),
                             layers.Dense(4, activation="relu", name="head_hidden"),
                             layers.Dense(2, name="head_out")], name="head")
    ids = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = layers.Embedding(20, 6, mask_zero=True, name="embedding")(ids)
    pooled = layers.GlobalAveragePooling1D(name="pool")(encoder(x))
    model = keras.Model(ids, head(pooled), name="nested_models")
    return model, [tokens(rng, 3, 5, 20, pad_from=[3, 1, 5])], []


def tf_operators(rng):
    """TensorFlow functions and operators on Keras tensors, saved as TFOpLambda and
    SlicingOpLambda nodes: x + y, x * 2.0, x - y, x / 2.0, tf.nn.relu, tf.math.tanh,
    tf.reduce_mean, tf.concat, tf.matmul, tf.transpose, tf.nn.softmax and x[:, 0, :]."""
    q = keras.Input(shape=(None, 4), name="query")
    v = keras.Input(shape=(None, 4), name="value")
    a = layers.Attention(name="luong")([q, v])
    x = a + q
    x = x * 2.0
    x = tf.nn.relu(x - v[:, :1, :])
    x = tf.math.tanh(x / 3.0)
    first = x[:, 0, :]
    mean = tf.reduce_mean(x, axis=1)
    both = tf.concat([first, mean], axis=-1)
    scores = tf.nn.softmax(tf.matmul(q, tf.transpose(v, perm=[0, 2, 1])))
    out = layers.Dense(2, name="out")(both)
    model = keras.Model([q, v], [out, scores], name="tf_operators")
    inputs = [rng.normal(size=(2, 3, 4)).astype("float32"),
              rng.normal(size=(2, 3, 4)).astype("float32")]
    return model, inputs, []


def tf_functions(rng):
    """More TensorFlow functions as tf.keras 2 records them: the Ellipsis in a slice, a
    constant first operand (2.0 * x, 1.0 - x), tf.reduce_sum over two axes with keepdims,
    tf.expand_dims, tf.squeeze, tf.reshape, tf.math.negative, sigmoid, abs, exp, sqrt, square."""
    x = keras.Input(shape=(3, 4), name="x")
    a = x[..., 1:3]
    b = 2.0 * x
    c = tf.reduce_sum(b, axis=[1, 2], keepdims=True)
    d = tf.expand_dims(x[:, :, 0], -1)
    e = tf.squeeze(d, axis=-1)
    f = tf.reshape(a, [-1, 6])
    g = tf.math.sigmoid(-x)
    h = tf.math.exp(tf.math.abs(g)) - tf.math.sqrt(tf.math.square(x) + 1.0)
    i = 1.0 - x
    model = keras.Model(x, [a, b, c, d, e, f, h, i], name="tf_functions")
    return model, [rng.normal(size=(2, 3, 4)).astype("float32")], []


def error_matmul_transpose_b(rng):
    """tf.matmul(q, v, transpose_b=True): kattn maps tf.matmul without its transpose flags."""
    q = keras.Input(shape=(None, 4), name="query")
    v = keras.Input(shape=(None, 4), name="value")
    model = keras.Model([q, v], tf.matmul(q, v, transpose_b=True), name="error_matmul_transpose_b")
    return model, [rng.normal(size=(1, 2, 4)).astype("float32")] * 2, []


def error_unmapped_tf_function(rng):
    """tf.math.cumsum on a Keras tensor: a TFOpLambda kattn has no operation for."""
    x = keras.Input(shape=(None, 3), name="x")
    y = tf.math.cumsum(layers.Dense(3, name="dense")(x), axis=1)
    model = keras.Model(x, y, name="error_unmapped_tf_function")
    return model, [rng.normal(size=(1, 2, 3)).astype("float32")], []


CASES = {
    "luong_self_attention": luong_self_attention,
    "luong_causal_constructor": luong_causal_constructor,
    "luong_concat_scores": luong_concat_scores,
    "bahdanau_text_similarity": bahdanau_text_similarity,
    "mha_encoder_block": mha_encoder_block,
    "mha_cross_attention": mha_cross_attention,
    "mha_attention_axes": mha_attention_axes,
    "seq2seq_luong": seq2seq_luong,
    "bidirectional_gru_attention": bidirectional_gru_attention,
    "sequential_conv_classifier": sequential_conv_classifier,
    "sequential_with_input_layer": sequential_with_input_layer,
    "vision_patch_attention": vision_patch_attention,
    "companion_layers_1d": companion_layers_1d,
    "companion_layers_2d": companion_layers_2d,
    "recurrent_variants": recurrent_variants,
    "nested_models": nested_models,
    "tf_operators": tf_operators,
    "tf_functions": tf_functions,
    "error_unmapped_tf_function": error_unmapped_tf_function,
    "error_matmul_transpose_b": error_matmul_transpose_b,
}
ERRORS = {"error_unmapped_tf_function": ["TFOpLambda", "tf.math.cumsum"],
          "error_matmul_transpose_b": ["TFOpLambda", "transpose_b"]}
# Cases that also get weights.h5 and weights_by_name.h5.
WEIGHT_FILES = {"mha_encoder_block", "seq2seq_luong"}


def write_case(out, name, build, seed):
    case_dir = out / name
    shutil.rmtree(case_dir, ignore_errors=True)
    case_dir.mkdir(parents=True)
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model, inputs, notes = build(rng)
    randomize(model, seed + 1)
    before = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    model.save(case_dir / "model.h5")
    manifest = {
        "format_version": 1, "case": name, "set": "keras2-h5",
        "keras_version": keras.__version__, "tf_keras_version": keras.__version__,
        "tensorflow_version": tf.__version__, "keras_backend": "tensorflow",
        "model_file": "model.h5", "model_name": model.name,
        "layer_classes": [layer.__class__.__name__ for layer in model.layers],
        "inputs": [], "outputs": [], "call_args": {"training": False},
        "expect_error": name in ERRORS, "tolerance": TOLERANCE, "notes": notes,
    }
    for tensor, array in zip(model.inputs, inputs):
        input_name = tensor.name.split(":")[0]
        np.save(case_dir / f"{input_name}.npy", array)
        manifest["inputs"].append({"name": input_name, "file": f"{input_name}.npy",
                                   "shape": list(array.shape), "dtype": str(array.dtype)})
    if name in ERRORS:
        manifest["unsupported_classes"] = ERRORS[name]
    else:
        loaded = keras.models.load_model(case_dir / "model.h5")
        outputs = loaded.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
        outputs = outputs if isinstance(outputs, list) else [outputs]
        before = before if isinstance(before, list) else [before]
        for i, (tensor, array) in enumerate(zip(loaded.outputs, outputs)):
            output_name = tensor.name.split("/")[0].split(":")[0]
            file = f"output_{i}_{output_name}.npy"
            np.save(case_dir / file, array.astype("float32"))
            manifest["outputs"].append({"index": i, "name": output_name, "file": file,
                                        "shape": list(array.shape), "dtype": "float32"})
            difference = float(np.max(np.abs(before[i] - array))) if array.size else 0.0
            manifest["outputs"][-1]["max_abs_diff_before_saving"] = difference
            if difference > 0:
                before_file = f"before_saving_{i}_{output_name}.npy"
                np.save(case_dir / before_file, before[i].astype("float32"))
                manifest["outputs"][-1]["before_saving_file"] = before_file
    if name in WEIGHT_FILES:
        model.save_weights(case_dir / "weights.h5")
        # The same weights from a model whose layers are listed in reverse name order, for
        # load_weights(by_name=True).
        shuffled = keras.Model(model.inputs, model.outputs)
        shuffled._self_tracked_trackables = sorted(
            shuffled._self_tracked_trackables, key=lambda layer: layer.name, reverse=True)
        shuffled.save_weights(case_dir / "weights_by_name.h5")
        manifest["weight_files"] = ["weights.h5", "weights_by_name.h5"]
    (case_dir / "case.json").write_text(json.dumps(manifest, indent=1) + "\n")


def write_older_layout(out, source, name):
    """A copy of case `source` with the HDF5 layout of h5py 2 era Keras 2 files: every string
    attribute fixed-length bytes, keras_version 2.2.4, and `layer_names` split into the chunks
    `layer_names0`, `layer_names1` Keras writes for attributes over 64 KiB. tf.keras 2 loads it
    and predicts what the source case predicts (checked here)."""
    import h5py

    case_dir = out / name
    shutil.rmtree(case_dir, ignore_errors=True)
    shutil.copytree(out / source, case_dir)

    def fixed(value):
        return np.bytes_(value.encode("utf8") if isinstance(value, str) else value)

    with h5py.File(case_dir / "model.h5", "r+") as f:
        for key in ("backend", "model_config"):
            f.attrs[key] = fixed(f.attrs[key])
        f.attrs["keras_version"] = np.bytes_(b"2.2.4")
        weights = f["model_weights"]
        names = [n.encode("utf8") if isinstance(n, str) else n
                 for n in weights.attrs["layer_names"]]
        del weights.attrs["layer_names"]
        half = len(names) // 2
        weights.attrs["layer_names0"] = np.array(names[:half], dtype=f"S{max(map(len, names))}")
        weights.attrs["layer_names1"] = np.array(names[half:], dtype=f"S{max(map(len, names))}")
        weights.attrs["backend"] = fixed("tensorflow")
        weights.attrs["keras_version"] = np.bytes_(b"2.2.4")
        for layer in names:
            group = weights[layer.decode("utf8")]
            weight_names = [n.encode("utf8") if isinstance(n, str) else n
                            for n in group.attrs["weight_names"]]
            width = max(map(len, weight_names), default=1)
            group.attrs["weight_names"] = np.array(weight_names, dtype=f"S{width}")
    manifest = json.loads((case_dir / "case.json").read_text())
    manifest["case"] = name
    manifest["notes"] = manifest["notes"] + [
        f"case {source} rewritten with fixed-length string attributes, keras_version 2.2.4 and "
        "layer_names split into layer_names0 / layer_names1"]
    (case_dir / "case.json").write_text(json.dumps(manifest, indent=1) + "\n")
    loaded = keras.models.load_model(case_dir / "model.h5")
    inputs = [np.load(case_dir / entry["file"]) for entry in manifest["inputs"]]
    actual = loaded.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    expected = np.load(case_dir / manifest["outputs"][0]["file"])
    assert np.array_equal(actual, expected), name


def write_hostile(out, source):
    """hostile/: copies of case `source`'s model.h5 that kattn must refuse, each with a clear
    error (tests/models/test_legacy_h5.cpp): an external link where a layer's weights are,
    a weight declaring 2^40 values (4 TiB, no data stored), a model_config that is not JSON,
    and no model_config at all."""
    import h5py

    hostile = out / "hostile"
    shutil.rmtree(hostile, ignore_errors=True)
    hostile.mkdir(parents=True)
    model_file = out / source / "model.h5"

    def copy(name):
        shutil.copy(model_file, hostile / name)
        return h5py.File(hostile / name, "r+")

    with copy("external_link.h5") as f:
        del f["model_weights/luong/luong/scale:0"]
        f["model_weights/luong/luong/scale:0"] = h5py.ExternalLink("/etc/passwd", "/x")
    with copy("absurd_shape.h5") as f:
        del f["model_weights/luong/luong/scale:0"]
        f["model_weights/luong/luong"].create_dataset("scale:0", shape=(2**40,), dtype="f4")
    with copy("model_config_not_json.h5") as f:
        f.attrs["model_config"] = '{"class_name": "Functional", "config": {"layers": ['
    with copy("no_model_config.h5") as f:
        del f.attrs["model_config"]


def main(out_dir):
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for index, (name, build) in enumerate(CASES.items()):
        write_case(out, name, build, SEED + 10 * index)
        print("wrote", name)
    write_older_layout(out, "luong_self_attention", "older_layout_fixed_length_strings")
    cases = list(CASES) + ["older_layout_fixed_length_strings"]
    write_hostile(out, "luong_self_attention")
    index = {"format_version": 1, "set": "keras2-h5", "tf_keras_version": keras.__version__,
             "tensorflow_version": tf.__version__, "numpy_version": np.__version__,
             "cases": cases}
    (out / "index.json").write_text(json.dumps(index, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
