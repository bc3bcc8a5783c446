# The four attention layers of Keras 3, with keras3's arguments and defaults.

#' Attention layers
#'
#' keras3's attention layers, computed by kattn: `layer_attention()` (Keras's `Attention`,
#' Luong-style dot-product attention), `layer_additive_attention()` (`AdditiveAttention`,
#' Bahdanau-style), `layer_multi_head_attention()` (`MultiHeadAttention`) and
#' `layer_group_query_attention()` (`GroupQueryAttention`).
#'
#' Called without `object` (`inputs`), each returns the layer, a function to call on inputs
#' with the call arguments of Keras:
#'
#' * `layer_attention()`, `layer_additive_attention()`: `layer(list(query, value))` or
#'   `layer(list(query, value, key))`; `mask = list(query_mask, value_mask)` (either may be
#'   `NULL`), `return_attention_scores`, `use_causal_mask`, `training`.
#' * `layer_multi_head_attention()`, `layer_group_query_attention()`: `layer(query, value)` or
#'   `layer(query, value, key)`; `query_mask`, `value_mask`, `key_mask`, `attention_mask`,
#'   `return_attention_scores`, `use_causal_mask`, `training`. As in Keras,
#'   MultiHeadAttention takes the query's mask from the query tensor (a [layer_masking()] or
#'   `layer_embedding(mask_zero = TRUE)` before it) and ignores `query_mask`.
#'
#' Called on symbolic tensors the layer adds a node to a model graph; called on R arrays of
#' dim `c(batch, T, dim)` it returns the output array, and with
#' `return_attention_scores = TRUE` a list of the output and the scores. Masks are logical
#' arrays, `TRUE` where a step is kept.
#'
#' @param object,inputs What to call the layer on at once: a symbolic tensor or R array, or a
#'   list of them (for `layer_multi_head_attention()` and `layer_group_query_attention()` the
#'   list is the call's arguments: `list(query, value)`, names for keywords). Missing or
#'   `NULL`: the layer itself is returned.
#' @param use_scale `layer_attention()`: a learned scalar scale of the scores (default
#'   `FALSE`); `layer_additive_attention()`: a learned scale vector (default `TRUE`).
#' @param score_mode `"dot"` or `"concat"`.
#' @param dropout The fraction of attention scores to drop in training.
#' @param seed The seed of the dropout.
#' @param num_heads,num_query_heads,num_key_value_heads The numbers of heads.
#' @param key_dim,head_dim The size of each head for query and key.
#' @param value_dim The size of each head for value (`NULL`: `key_dim`).
#' @param use_bias Whether the projections have biases.
#' @param output_shape The output's last dimensions (`NULL`: the query's last dimension).
#' @param attention_axes The axes attention runs over (`NULL`: all but batch, heads and
#'   features).
#' @param kernel_initializer,bias_initializer Initializers: a Keras name
#'   (`"glorot_uniform"`) or a serialized initializer (a list).
#' @param kernel_regularizer,bias_regularizer,activity_regularizer Regularizers, or `NULL`.
#' @param kernel_constraint,bias_constraint Constraints, or `NULL`.
#' @param ... Other arguments of the Keras constructor: `name`, `trainable`, `dtype`, and
#'   those of newer Keras releases (`use_gate`, `flash_attention`, ...).
#' @return The layer, or the result of calling it on `object` / `inputs`.
#' @examples
#' query <- array(runif(2 * 3 * 4), c(2, 3, 4))
#' value <- array(runif(2 * 5 * 4), c(2, 5, 4))
#' dim(layer_attention(list(query, value)))
#' attention <- layer_attention(use_scale = TRUE)
#' result <- attention(list(query, value), return_attention_scores = TRUE)
#' dim(result[[2]])
#' mha <- layer_multi_head_attention(num_heads = 2, key_dim = 4)
#' dim(mha(query, value, use_causal_mask = TRUE))
#' @name attention_layers
NULL

#' @rdname attention_layers
#' @export
layer_attention <- function(object, use_scale = FALSE, score_mode = "dot", dropout = 0,
                            seed = NULL, ...) {
  create_layer("Attention", integers = "seed")
}

#' @rdname attention_layers
#' @export
layer_additive_attention <- function(object, use_scale = TRUE, dropout = 0, ...) {
  create_layer("AdditiveAttention")
}

#' @rdname attention_layers
#' @export
layer_multi_head_attention <- function(inputs, num_heads, key_dim, value_dim = NULL, dropout = 0,
                                       use_bias = TRUE, output_shape = NULL,
                                       attention_axes = NULL,
                                       kernel_initializer = "glorot_uniform",
                                       bias_initializer = "zeros", kernel_regularizer = NULL,
                                       bias_regularizer = NULL, activity_regularizer = NULL,
                                       kernel_constraint = NULL, bias_constraint = NULL, ...) {
  create_layer("MultiHeadAttention",
               integers = c("num_heads", "key_dim", "value_dim", "output_shape", "attention_axes",
                            "seed"),
               spread = TRUE)
}

#' @rdname attention_layers
#' @export
layer_group_query_attention <- function(object, head_dim, num_query_heads, num_key_value_heads,
                                        dropout = 0, use_bias = TRUE,
                                        kernel_initializer = "glorot_uniform",
                                        bias_initializer = "zeros", kernel_regularizer = NULL,
                                        bias_regularizer = NULL, activity_regularizer = NULL,
                                        kernel_constraint = NULL, bias_constraint = NULL, ...) {
  create_layer("GroupQueryAttention",
               integers = c("head_dim", "num_query_heads", "num_key_value_heads", "seed"),
               spread = TRUE)
}

